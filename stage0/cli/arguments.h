// Parsers for the values users type on the command line: durations, sizes, insecure options.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "stage0/image/image_fetcher.h"

namespace podrt::cli {

/// "30m", "24h", "90s", "1h30m", "0" -> seconds (Go duration syntax, as rkt's flags took).
Result<int64_t> parse_duration(std::string_view text);

/// "512", "64K", "100M", "16G" (powers of 1024; "Ki"/"Mi"/"Gi" too) -> bytes.
Result<uint64_t> parse_size(std::string_view text);

/// rkt's --insecure-options list, expanded (all-fetch = image,tls,http; all-run =
/// capabilities,paths,seccomp; all = both). Unknown names are an error.
Result<std::set<std::string>> parse_insecure_options(std::string_view text);

/// The fetch policy from the global --insecure-options and a --max-image-size value.
Result<image::FetchPolicy> make_fetch_policy(std::string_view insecure_options,
                                             std::string_view max_image_size);

}  // namespace podrt::cli
