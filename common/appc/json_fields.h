// Reading typed fields out of untrusted JSON without exceptions, with the field's path
// ("app.ports[1].port") in every error. Shared by the image and pod manifest parsers.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace podrt::appc {

/// Deepest nesting of arrays and objects a manifest may use; deeper input is refused before
/// the DOM is built, so that copying or printing it cannot exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

/// Parses a JSON document without throwing. Errors: "not valid JSON (line L, column C)" and
/// "JSON nested deeper than 64 levels".
Result<nlohmann::json> parse_json_document(std::string_view text);

/// "app" + "exec" -> "app.exec"; "" + "name" -> "name".
std::string field_path(const std::string& parent, std::string_view key);
/// "app.exec" + 0 -> "app.exec[0]".
std::string index_path(const std::string& parent, size_t index);

/// The member `key` of `object`, or nullptr when it is absent or JSON null.
const nlohmann::json* find_member(const nlohmann::json& object, std::string_view key);

/// Type checks that name the field: `labels must be an array`.
Result<void> expect_object(const nlohmann::json& value, const std::string& path);
Result<void> expect_array(const nlohmann::json& value, const std::string& path);

/// Typed reads of a value that is present.
Result<std::string> read_string(const nlohmann::json& value, const std::string& path);
Result<bool> read_bool(const nlohmann::json& value, const std::string& path);
/// An integer in [min, max]; negatives, fractions and out-of-range values are errors.
Result<uint64_t> read_uint(const nlohmann::json& value, const std::string& path, uint64_t min,
                           uint64_t max);
/// An integer in [min, max], signed.
Result<int64_t> read_int(const nlohmann::json& value, const std::string& path, int64_t min,
                         int64_t max);
Result<std::vector<std::string>> read_string_array(const nlohmann::json& value,
                                                   const std::string& path);
/// An object whose values are all strings (userAnnotations, userLabels).
Result<std::map<std::string, std::string>> read_string_map(const nlohmann::json& value,
                                                           const std::string& path);

/// Reads the required string member `key` of `object` (`path` names the object).
Result<std::string> required_string(const nlohmann::json& object, std::string_view key,
                                    const std::string& path);
/// Reads the optional string member `key`; absent gives std::nullopt.
Result<std::optional<std::string>> optional_string(const nlohmann::json& object,
                                                   std::string_view key, const std::string& path);
/// Reads the optional bool member `key`; absent gives std::nullopt.
Result<std::optional<bool>> optional_bool(const nlohmann::json& object, std::string_view key,
                                          const std::string& path);

/// Reads the required member `key` as an AC Identifier / AC Name / absolute path.
/// Checks the manifest header: an object whose acKind is `expected_kind`; returns its valid
/// acVersion.
Result<std::string> read_manifest_header(const nlohmann::json& document,
                                         std::string_view expected_kind);

Result<std::string> required_identifier(const nlohmann::json& object, std::string_view key,
                                        const std::string& path);
Result<std::string> required_name(const nlohmann::json& object, std::string_view key,
                                  const std::string& path);
Result<std::string> required_absolute_path(const nlohmann::json& object, std::string_view key,
                                           const std::string& path);

/// Reads the optional member `key` of `object` as a list of objects, each through
/// `read(item, item_path)`; absent gives an empty list.
template <class T, class Read>
Result<std::vector<T>> read_object_list(const nlohmann::json& object, std::string_view key,
                                        const std::string& path, Read read);

/// Turns a validator's error into one naming the field: `name "X" is not a valid AC name`.
Error field_error(const std::string& path, const Error& error);

template <class T, class Read>
Result<std::vector<T>> read_object_list(const nlohmann::json& object, std::string_view key,
                                        const std::string& path, Read read) {
  std::vector<T> out;
  const nlohmann::json* list = find_member(object, key);
  if (list == nullptr) return out;
  std::string list_path = field_path(path, key);
  PODRT_TRY(expect_array(*list, list_path));
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    std::string item_path = index_path(list_path, i);
    PODRT_TRY(expect_object((*list)[i], item_path));
    out.push_back(PODRT_TRY(read((*list)[i], item_path)));
  }
  return out;
}

}  // namespace podrt::appc
