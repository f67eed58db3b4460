// mount(2) calls with errors that say what was being mounted where.
#pragma once

#include <string>

#include "common/result.h"

namespace podrt::stage1::rootfs {

Result<void> mount_filesystem(const std::string& type, const std::string& target,
                              unsigned long flags, const std::string& options = "");
/// A bind mount; recursive binds submounts too. read_only needs a second remount, which
/// this does (a bind cannot be made read-only in one call).
Result<void> bind_mount(const std::string& source, const std::string& target, bool read_only,
                        bool recursive = true);
/// Makes an existing mount read-only without touching its other flags.
Result<void> remount_read_only(const std::string& target);

}  // namespace podrt::stage1::rootfs
