// Validation of the appc value types: AC Identifier, AC Name, Image ID, AC Version,
// environment variable names and os/arch labels.
// Follows appc spec types.md ("Types") and aci.md ("Image Manifest Schema", labels os/arch).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::appc {

/// Checks an AC Identifier: `^[a-z0-9]+([-._~/][a-z0-9]+)*$` (types.md). Image names,
/// label, annotation and isolator names use it.
Result<void> validate_ac_identifier(std::string_view value);

/// Checks an AC Name: `^[a-z0-9]+([-][a-z0-9]+)*$` (types.md). App, volume, port and
/// mount point names use it.
Result<void> validate_ac_name(std::string_view value);

/// Whether an image ID carries the whole sha512 digest or only a prefix of it.
enum class ImageIdForm { kFull, kAbbreviated };

/// Checks an Image ID: "sha512-" followed by 1 to 128 lowercase hex digits. Reports whether it
/// is the full 128-digit form or an abbreviation (a prefix, as users type them).
Result<ImageIdForm> validate_image_id(std::string_view value);

/// Checks an AC Version: a SemVer 2.0.0 version such as "0.8.11" or "1.0.0-rc.1+build.5".
Result<void> validate_ac_version(std::string_view value);

/// Checks an environment variable name: letters, digits, '_', '.', '-', not starting with a
/// digit (aci.md: POSIX names, plus '.' and '-' for practical reasons).
Result<void> validate_env_name(std::string_view value);

/// Checks an os/arch pair against appc's types.ValidOSArch whitelist (aci.md, labels):
/// linux/{amd64,i386,aarch64,aarch64_be,armv6l,armv7l,armv7b,ppc64,ppc64le,s390x},
/// freebsd/{amd64,i386,arm}, darwin/{x86_64,i386}. An empty arch checks only the os.
Result<void> validate_os_arch(std::string_view os, std::string_view arch);

/// Quotes a value for a one-line message: control characters and '"' are escaped and long
/// values are cut to 100 characters with "...".
std::string quote_for_message(std::string_view value);

/// True for an absolute path: non-empty and starting with '/'.
bool is_absolute_path(std::string_view path);

}  // namespace podrt::appc
