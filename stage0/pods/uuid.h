// Pod UUIDs: random (version 4) UUIDs in their usual text form.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::pods {

/// A new random UUID such as "5f0d5a9e-3c1b-4c57-9a63-0e8f2c1d7b42".
Result<std::string> new_uuid();

/// True for a full UUID in canonical lowercase form.
bool is_uuid(std::string_view text);

/// True for a non-empty prefix of a canonical UUID (what users may type).
bool is_uuid_prefix(std::string_view text);

}  // namespace podrt::pods
