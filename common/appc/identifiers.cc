// Validation of the appc value types (appc spec types.md, aci.md labels).
#include "common/appc/identifiers.h"

#include <array>
#include <string>

namespace podrt::appc {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Matches ^[a-z0-9]+([S][a-z0-9]+)*$ where S is the set of separators.
bool matches_separated_alnum(std::string_view value, std::string_view separators) {
  if (value.empty()) return false;
  bool previous_was_separator = true;  // so a leading separator fails
  for (char c : value) {
    if (is_lower_alnum(c)) {
      previous_was_separator = false;
    } else if (separators.find(c) != std::string_view::npos) {
      if (previous_was_separator) return false;
      previous_was_separator = true;
    } else {
      return false;
    }
  }
  return !previous_was_separator;
}

std::string quoted(std::string_view value) { return quote_for_message(value); }

// One dot-separated SemVer identifier; numeric ones may not have leading zeros when strict.
bool valid_semver_identifier(std::string_view part, bool forbid_leading_zero) {
  if (part.empty()) return false;
  bool all_digits = true;
  for (char c : part) {
    if (is_digit(c)) continue;
    all_digits = false;
    if (!is_alpha(c) && c != '-') return false;
  }
  return !(forbid_leading_zero && all_digits && part.size() > 1 && part[0] == '0');
}

bool valid_semver_list(std::string_view list, bool forbid_leading_zero) {
  while (true) {
    size_t dot = list.find('.');
    if (!valid_semver_identifier(list.substr(0, dot), forbid_leading_zero)) return false;
    if (dot == std::string_view::npos) return true;
    list.remove_prefix(dot + 1);
  }
}

struct OsArches {
  std::string_view os;
  std::array<std::string_view, 10> arches;  // unused entries are empty
};

constexpr std::array<OsArches, 3> kValidOsArch = {{
    {"linux",
     {"amd64", "i386", "aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b", "ppc64", "ppc64le",
      "s390x"}},
    {"freebsd", {"amd64", "i386", "arm"}},
    {"darwin", {"x86_64", "i386"}},
}};

}  // namespace

Result<void> validate_ac_identifier(std::string_view value) {
  if (!matches_separated_alnum(value, "-._~/"))
    return Error::invalid(quoted(value) + " is not a valid AC identifier");
  return ok();
}

Result<void> validate_ac_name(std::string_view value) {
  if (!matches_separated_alnum(value, "-"))
    return Error::invalid(quoted(value) + " is not a valid AC name");
  return ok();
}

Result<ImageIdForm> validate_image_id(std::string_view value) {
  constexpr std::string_view kPrefix = "sha512-";
  constexpr size_t kFullLength = 128;
  if (value.substr(0, kPrefix.size()) != kPrefix)
    return Error::invalid(quoted(value) + " is not a valid image ID (want sha512-<hex>)");
  std::string_view hex = value.substr(kPrefix.size());
  if (hex.empty() || hex.size() > kFullLength)
    return Error::invalid(quoted(value) + " is not a valid image ID (want 1 to 128 hex digits)");
  for (char c : hex) {
    if (!is_lower_hex(c))
      return Error::invalid(quoted(value) + " is not a valid image ID (want lowercase hex)");
  }
  return hex.size() == kFullLength ? ImageIdForm::kFull : ImageIdForm::kAbbreviated;
}

Result<void> validate_ac_version(std::string_view value) {
  Error bad = Error::invalid(quoted(value) + " is not a valid SemVer 2.0.0 version");
  std::string_view rest = value;
  std::string_view build;
  if (size_t plus = rest.find('+'); plus != std::string_view::npos) {
    build = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
    if (!valid_semver_list(build, false)) return bad;
  }
  if (size_t dash = rest.find('-'); dash != std::string_view::npos) {
    if (!valid_semver_list(rest.substr(dash + 1), true)) return bad;
    rest = rest.substr(0, dash);
  }
  // major.minor.patch: exactly three numeric identifiers without leading zeros.
  int parts = 0;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    if (part.empty() || part.size() > 18) return bad;
    for (char c : part) {
      if (!is_digit(c)) return bad;
    }
    if (part.size() > 1 && part[0] == '0') return bad;
    ++parts;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (parts != 3) return bad;
  return ok();
}

Result<void> validate_env_name(std::string_view value) {
  Error bad = Error::invalid(quoted(value) + " is not a valid environment variable name");
  if (value.empty() || is_digit(value[0])) return bad;
  for (char c : value) {
    if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '.' && c != '-') return bad;
  }
  return ok();
}

Result<void> validate_os_arch(std::string_view os, std::string_view arch) {
  for (const OsArches& entry : kValidOsArch) {
    if (entry.os != os) continue;
    if (arch.empty()) return ok();
    for (std::string_view valid : entry.arches) {
      if (!valid.empty() && valid == arch) return ok();
    }
    return Error::invalid("arch " + quoted(arch) + " is not supported for os " + quoted(os));
  }
  return Error::invalid("os " + quoted(os) + " is not supported (want linux, freebsd or darwin)");
}

std::string quote_for_message(std::string_view value) {
  constexpr size_t kMaxShown = 100;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  size_t shown = 0;
  for (char c : value) {
    if (shown++ == kMaxShown) {
      out += "...";
      break;
    }
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

bool is_absolute_path(std::string_view path) { return !path.empty() && path[0] == '/'; }

}  // namespace podrt::appc
