// Reading typed fields out of untrusted JSON without exceptions.
#include "common/appc/json_fields.h"

#include <algorithm>
#include <limits>

#include "common/appc/identifiers.h"

namespace podrt::appc {
namespace {

using nlohmann::json;

// A SAX pass that only checks syntax and depth, recording where the first problem is.
class SyntaxChecker : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool /*value*/) override { return true; }
  bool number_integer(number_integer_t /*value*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*value*/) override { return true; }
  bool number_float(number_float_t /*value*/, const string_t& /*text*/) override { return true; }
  bool string(string_t& /*value*/) override { return true; }
  bool binary(binary_t& /*value*/) override { return true; }
  bool start_object(std::size_t /*elements*/) override { return enter(); }
  bool key(string_t& /*value*/) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t /*elements*/) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    syntax_error_ = true;
    error_position_ = position;
    return false;
  }

  bool syntax_error() const { return syntax_error_; }
  bool too_deep() const { return too_deep_; }
  std::size_t error_position() const { return error_position_; }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  bool syntax_error_ = false;
  bool too_deep_ = false;
  std::size_t error_position_ = 0;
};

std::string type_name(const json& value) { return value.type_name(); }

}  // namespace

Result<json> parse_json_document(std::string_view text) {
  SyntaxChecker checker;
  bool accepted = json::sax_parse(text, &checker, json::input_format_t::json, true, false);
  if (checker.too_deep())
    return Error::invalid("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (!accepted || checker.syntax_error()) {
    // nlohmann reports the 1-based byte count read when the error was seen.
    std::size_t end = std::min(checker.error_position(), text.size());
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i + 1 < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Error::invalid("not valid JSON (line " + std::to_string(line) + ", column " +
                          std::to_string(column) + ")");
  }
  json document = json::parse(text, nullptr, false);
  if (document.is_discarded()) return Error::invalid("not valid JSON");
  return document;
}

std::string field_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

const json* find_member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<void> expect_object(const json& value, const std::string& path) {
  if (!value.is_object())
    return Error::invalid(path + " must be an object, not " + type_name(value));
  return ok();
}

Result<void> expect_array(const json& value, const std::string& path) {
  if (!value.is_array()) return Error::invalid(path + " must be an array, not " + type_name(value));
  return ok();
}

Result<std::string> read_string(const json& value, const std::string& path) {
  if (!value.is_string())
    return Error::invalid(path + " must be a string, not " + type_name(value));
  return value.get_ref<const std::string&>();
}

Result<bool> read_bool(const json& value, const std::string& path) {
  if (!value.is_boolean())
    return Error::invalid(path + " must be a boolean, not " + type_name(value));
  return value.get<bool>();
}

Result<uint64_t> read_uint(const json& value, const std::string& path, uint64_t min, uint64_t max) {
  std::string range = " (want " + std::to_string(min) + " to " + std::to_string(max) + ")";
  if (value.is_number_unsigned()) {
    auto number = value.get<uint64_t>();
    if (number < min || number > max)
      return Error::invalid(path + " " + std::to_string(number) + " is out of range" + range);
    return number;
  }
  if (value.is_number_integer())  // signed means negative here
    return Error::invalid(path + " " + std::to_string(value.get<int64_t>()) + " is out of range" +
                          range);
  if (value.is_number_float())
    return Error::invalid(path + " must be an integer" + range + ", not " + value.dump());
  return Error::invalid(path + " must be an integer, not " + type_name(value));
}

Result<int64_t> read_int(const json& value, const std::string& path, int64_t min, int64_t max) {
  std::string range = " (want " + std::to_string(min) + " to " + std::to_string(max) + ")";
  if (value.is_number_unsigned()) {
    auto number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        static_cast<int64_t>(number) > max || static_cast<int64_t>(number) < min)
      return Error::invalid(path + " " + std::to_string(number) + " is out of range" + range);
    return static_cast<int64_t>(number);
  }
  if (value.is_number_integer()) {
    auto number = value.get<int64_t>();
    if (number < min || number > max)
      return Error::invalid(path + " " + std::to_string(number) + " is out of range" + range);
    return number;
  }
  if (value.is_number_float())
    return Error::invalid(path + " must be an integer" + range + ", not " + value.dump());
  return Error::invalid(path + " must be an integer, not " + type_name(value));
}

Result<std::vector<std::string>> read_string_array(const json& value, const std::string& path) {
  PODRT_TRY(expect_array(value, path));
  std::vector<std::string> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i)
    out.push_back(PODRT_TRY(read_string(value[i], index_path(path, i))));
  return out;
}

Result<std::map<std::string, std::string>> read_string_map(const json& value,
                                                           const std::string& path) {
  PODRT_TRY(expect_object(value, path));
  std::map<std::string, std::string> out;
  for (const auto& [key, item] : value.items())
    out[key] = PODRT_TRY(read_string(item, path + "[" + quote_for_message(key) + "]"));
  return out;
}

Result<std::string> required_string(const json& object, std::string_view key,
                                    const std::string& path) {
  const json* member = find_member(object, key);
  std::string member_path = field_path(path, key);
  if (member == nullptr) return Error::invalid(member_path + " is required");
  return read_string(*member, member_path);
}

Result<std::optional<std::string>> optional_string(const json& object, std::string_view key,
                                                   const std::string& path) {
  const json* member = find_member(object, key);
  if (member == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(PODRT_TRY(read_string(*member, field_path(path, key))));
}

Result<std::optional<bool>> optional_bool(const json& object, std::string_view key,
                                          const std::string& path) {
  const json* member = find_member(object, key);
  if (member == nullptr) return std::optional<bool>();
  return std::optional<bool>(PODRT_TRY(read_bool(*member, field_path(path, key))));
}

Result<std::string> required_identifier(const json& object, std::string_view key,
                                        const std::string& path) {
  std::string value = PODRT_TRY(required_string(object, key, path));
  if (auto valid = validate_ac_identifier(value); !valid)
    return field_error(field_path(path, key), valid.error());
  return value;
}

Result<std::string> required_name(const json& object, std::string_view key,
                                  const std::string& path) {
  std::string value = PODRT_TRY(required_string(object, key, path));
  if (auto valid = validate_ac_name(value); !valid)
    return field_error(field_path(path, key), valid.error());
  return value;
}

Result<std::string> required_absolute_path(const json& object, std::string_view key,
                                           const std::string& path) {
  std::string value = PODRT_TRY(required_string(object, key, path));
  if (!is_absolute_path(value))
    return Error::invalid(field_path(path, key) + " " + quote_for_message(value) +
                          " must be an absolute path");
  return value;
}

Error field_error(const std::string& path, const Error& error) {
  return Error::invalid(path + " " + error.message());
}

Result<std::string> read_manifest_header(const nlohmann::json& document,
                                         std::string_view expected_kind) {
  PODRT_TRY(expect_object(document, "manifest"));
  std::string kind = PODRT_TRY(required_string(document, "acKind", ""));
  if (kind != expected_kind)
    return Error::invalid("acKind " + quote_for_message(kind) + " is not \"" +
                          std::string(expected_kind) + "\"");
  std::string version = PODRT_TRY(required_string(document, "acVersion", ""));
  if (auto valid = validate_ac_version(version); !valid) return field_error("acVersion", valid.error());
  return version;
}

}  // namespace podrt::appc
