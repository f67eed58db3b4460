// application/x-www-form-urlencoded bodies (the HTML form encoding ace.md's hmac endpoints take),
// decoded strictly: the body comes from an untrusted app.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::metadata {

/// "a=1&b=x%2By+z" -> {a: "1", b: "x+y z"}. '+' is a space, %XX a byte (any byte, 0x00 included).
/// Errors: a bad %-escape, a field without '=' or with an empty name, a field given twice (so a
/// verifier never has to guess which "uuid" was meant).
Result<std::map<std::string, std::string>> decode_form(std::string_view body);

}  // namespace podrt::metadata
