// Resolves an app's user and group (numbers or names) from the image's own /etc/passwd and
// /etc/group. No NSS: the supervisor is static and must only ever read the image's files.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::supervisor {

/// The uid for `user` in passwd-format `passwd_text`; a decimal number is taken as is.
Result<uid_t> find_uid(std::string_view user, std::string_view passwd_text);
/// The gid for `group` in group-format `group_text`; a decimal number is taken as is.
Result<gid_t> find_gid(std::string_view group, std::string_view group_text);

/// Resolves both against /etc/passwd and /etc/group of the current root. Call it after
/// chroot into the app's root, so that symlinks inside the image resolve inside the image.
/// A name needs the file; a number does not.
Result<uid_t> resolve_uid(const std::string& user);
Result<gid_t> resolve_gid(const std::string& group);

}  // namespace podrt::supervisor
