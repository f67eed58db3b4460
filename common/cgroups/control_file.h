// Reading and writing cgroupfs control files, and walking a cgroup's descendants. Internal to
// podrt_cgroups.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace podrt::cgroups {

/// Writes `value` to `<directory>/<file>` in one write(2), as the kernel wants it; the error
/// reads "write 67108864 to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Invalid argument".
Result<void> write_control(const std::string& directory, std::string_view file,
                           std::string_view value);
/// The content of `<directory>/<file>`.
Result<std::string> read_control(const std::string& directory, std::string_view file);
/// True when `<directory>/<file>` exists.
bool has_control(const std::string& directory, std::string_view file);
/// A cgroup2 directory (v1 directories have no cgroup.controllers).
bool is_unified_directory(const std::string& directory);
/// Splits on spaces, tabs and newlines, dropping empty words.
std::vector<std::string> split_words(std::string_view text);
/// The value after `key` in a flat-keyed file such as memory.events ("oom_kill 3"); 0 when the
/// key is absent.
Result<uint64_t> keyed_value(std::string_view text, std::string_view key, const std::string& file);
/// `directory` and every cgroup below it, children before their parents. A missing
/// `directory` gives an empty list.
Result<std::vector<std::string>> descendants_deepest_first(const std::string& directory);

}  // namespace podrt::cgroups
