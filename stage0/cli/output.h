// Shared output helpers for commands: tables, times, sizes, JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace podrt::cli {

/// "2026-11-23 17:40:05" in local time; "" for 0.
std::string format_time(int64_t seconds_since_epoch);
/// "1.5 MiB".
std::string format_size(uint64_t bytes);
/// rkt's short image id: "sha512-" and the first 32 hex digits.
std::string short_image_id(const std::string& id);

/// Prints rows as columns separated by tabs-expanded spaces; the first row is the legend
/// unless `with_legend` is false.
void print_table(const std::vector<std::vector<std::string>>& rows, bool with_legend);

}  // namespace podrt::cli
