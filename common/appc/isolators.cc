// Validation of the values of the well-known appc isolators (appc spec ace.md, "Isolators").
#include "common/appc/isolators.h"

#include <array>
#include <cstdlib>
#include <string>

#include "common/appc/identifiers.h"
#include "common/appc/json_fields.h"

namespace podrt::appc {
namespace {

using nlohmann::json;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// CAP_ followed by upper-case letters, digits and '_'.
bool is_capability_name(std::string_view name) {
  if (name.size() <= 4 || name.substr(0, 4) != "CAP_") return false;
  for (char c : name) {
    if (!is_upper(c) && !is_digit(c) && c != '_') return false;
  }
  return true;
}

// A syscall name ("clock_settime") or a scoped wildcard ("@appc.io/all").
bool is_syscall_name(std::string_view name) {
  if (name.empty()) return false;
  if (name[0] == '@') return validate_ac_identifier(name.substr(1)).has_value();
  for (char c : name) {
    if (!(c >= 'a' && c <= 'z') && !is_digit(c) && c != '_') return false;
  }
  return true;
}

// "EACCES": upper-case letters and digits after an 'E'.
bool is_errno_name(std::string_view name) {
  if (name.size() < 2 || name[0] != 'E') return false;
  for (char c : name) {
    if (!is_upper(c) && !is_digit(c)) return false;
  }
  return true;
}

Result<void> validate_resource(const json& value, const std::string& path) {
  PODRT_TRY(expect_object(value, path));
  bool any = false;
  for (std::string_view key : {"request", "limit"}) {
    const json* member = find_member(value, key);
    if (member == nullptr) continue;
    any = true;
    if (!is_valid_quantity(*member))
      return Error::invalid(field_path(path, key) + " " + member->dump() +
                            " is not a valid quantity (e.g. \"500m\", \"1G\", \"128Mi\")");
  }
  if (!any) return Error::invalid(path + " needs a \"limit\" or a \"request\"");
  return ok();
}

template <class Check>
Result<void> validate_name_set(const json& value, const std::string& path, Check is_valid,
                               std::string_view what) {
  PODRT_TRY(expect_object(value, path));
  const json* set = find_member(value, "set");
  std::string set_path = field_path(path, "set");
  if (set == nullptr) return Error::invalid(set_path + " is required");
  std::vector<std::string> names = PODRT_TRY(read_string_array(*set, set_path));
  if (names.empty()) return Error::invalid(set_path + " must not be empty");
  for (size_t i = 0; i < names.size(); ++i) {
    if (!is_valid(names[i]))
      return Error::invalid(index_path(set_path, i) + " " + quote_for_message(names[i]) +
                            " is not a valid " + std::string(what));
  }
  return ok();
}

Result<void> validate_seccomp(const json& value, const std::string& path) {
  PODRT_TRY(validate_name_set(value, path, is_syscall_name, "syscall name"));
  std::optional<std::string> errno_name = PODRT_TRY(optional_string(value, "errno", path));
  if (errno_name && !errno_name->empty() && !is_errno_name(*errno_name))
    return Error::invalid(field_path(path, "errno") + " " + quote_for_message(*errno_name) +
                          " is not an errno name (e.g. \"EPERM\")");
  return ok();
}

}  // namespace

bool is_valid_quantity(const json& value) {
  if (value.is_number_unsigned()) return true;
  if (value.is_number_float()) return value.get<double>() >= 0;
  if (!value.is_string()) return false;
  std::string_view text = value.get_ref<const std::string&>();
  size_t i = 0;
  size_t digits = 0;
  while (i < text.size() && is_digit(text[i])) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && is_digit(text[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  std::string_view suffix = text.substr(i);
  constexpr std::array<std::string_view, 14> kSuffixes = {"",  "m", "k",  "K",  "M",  "G",  "T",
                                                          "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi"};
  for (std::string_view valid : kSuffixes) {
    if (suffix == valid) return true;
  }
  return suffix == "Ei";
}

std::optional<long double> quantity_value(const json& value) {
  if (!is_valid_quantity(value)) return std::nullopt;
  if (value.is_number()) return value.get<long double>();
  const std::string& text = value.get_ref<const std::string&>();
  size_t suffix_start = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, suffix_start);
  std::string_view suffix = suffix_start == std::string::npos ? "" : std::string_view(text).substr(suffix_start);
  long double base = std::strtold(number.c_str(), nullptr);
  constexpr std::array<std::pair<std::string_view, long double>, 14> kScale = {{
      {"m", 1e-3L}, {"k", 1e3L}, {"K", 1e3L}, {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L},
      {"P", 1e15L}, {"E", 1e18L}, {"Ki", 1024.0L}, {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L}}};
  for (const auto& [name, scale] : kScale)
    if (suffix == name) return base * scale;
  return base;
}

Result<void> validate_isolator_value(std::string_view name, const json& value,
                                     const std::string& path) {
  if (name == "resource/memory" || name == "resource/cpu") return validate_resource(value, path);
  if (name == "os/linux/capabilities-retain-set" || name == "os/linux/capabilities-remove-set")
    return validate_name_set(value, path, is_capability_name, "capability name");
  if (name == "os/linux/seccomp-retain-set" || name == "os/linux/seccomp-remove-set")
    return validate_seccomp(value, path);
  if (name == "os/linux/no-new-privileges") {
    PODRT_TRY(read_bool(value, path));
    return ok();
  }
  if (name == "os/linux/oom-score-adj") {
    PODRT_TRY(read_int(value, path, -1000, 1000));
    return ok();
  }
  if (name == "os/linux/cpu-shares") {
    PODRT_TRY(read_uint(value, path, 2, 262144));
    return ok();
  }
  return ok();
}

}  // namespace podrt::appc
