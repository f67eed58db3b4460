// The secret in AC_METADATA_URL's path: the only credential an app presents to the metadata
// service (ace.md asks for at least 128 bits; we use 256).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::metadata {

/// 32 random bytes as 64 lowercase hex digits.
Result<std::string> random_access_token();
/// Whether `given` is `expected`, in time that depends only on their lengths (which are public).
bool access_token_matches(std::string_view expected, std::string_view given);

}  // namespace podrt::metadata
