// Reference grammar from the distribution spec (spec.md "pulling manifests") and docker's
// distribution/reference: repository components are [a-z0-9]+([._-][a-z0-9]+)* joined by '/',
// tags [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
#include "stage0/oci/registry_reference.h"

#include "stage0/oci/digest.h"

namespace podrt::oci {
namespace {

// The spec caps the whole name; docker counts the host in, podrt just the repository.
constexpr size_t kMaxRepositoryLength = 255;
constexpr size_t kMaxTagLength = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// [a-z0-9]+([._-][a-z0-9]+)* — with "__" allowed as a separator, as the spec's grammar does.
bool is_path_component(std::string_view component) {
  if (component.empty() || !is_lower_alnum(component.front()) || !is_lower_alnum(component.back()))
    return false;
  for (size_t i = 0; i < component.size(); ++i) {
    char c = component[i];
    if (is_lower_alnum(c)) continue;
    if (c == '_' && component[i + 1] == '_') {
      ++i;  // "__"
    } else if (c == '-') {
      while (component[i + 1] == '-') ++i;  // "-+" per the spec
    } else if (c != '.' && c != '_') {
      return false;
    }
    // The last character is alphanumeric, so a separator always has a successor.
    if (!is_lower_alnum(component[i + 1])) return false;
  }
  return true;
}

bool is_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) return false;
  if (!is_alnum(tag.front()) && tag.front() != '_') return false;
  for (char c : tag) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool is_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned long value = 0;
  for (char c : port) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  return value <= 65535;
}

/// A DNS name or IPv4 address ([A-Za-z0-9-] labels joined by '.'), or a bracketed IPv6 address,
/// each with an optional ":port".
bool is_host(std::string_view host) {
  if (host.empty()) return false;
  std::string_view name = host;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!is_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != ':' &&
          c != '.')
        return false;
    }
    std::string_view rest = host.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && is_port(rest.substr(1));
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos) {
    if (!is_port(host.substr(colon + 1))) return false;
    name = host.substr(0, colon);
  }
  if (name.empty()) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
    }
    start = dot + 1;
  }
  return true;
}

/// The text quoted for an error, with control characters masked so the message stays one line.
std::string quoted(std::string_view text) {
  std::string shown(text.substr(0, 200));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "\"" + shown + (text.size() > 200 ? "...\"" : "\"");
}

}  // namespace

std::string RegistryReference::to_string() const {
  std::string text = host + "/" + repository;
  if (!tag.empty()) text += ":" + tag;
  if (!digest.empty()) text += "@" + digest;
  return text;
}

Result<RegistryReference> parse_registry_reference(std::string_view text) {
  auto invalid = [&](const std::string& problem) {
    return Error::invalid("invalid image reference " + quoted(text) + ": " + problem);
  };
  if (text.empty()) return invalid("empty (expected HOST[:PORT]/NAME[:TAG|@DIGEST])");

  RegistryReference reference;
  std::string_view rest = text;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    auto digest = parse_digest(rest.substr(at + 1));
    if (!digest) return invalid(digest.error().message());
    reference.digest = std::move(*digest);
    rest = rest.substr(0, at);
  }

  // Docker's rule: the first component is a registry host only when it looks like one
  // (a '.', a ':', "localhost", or an uppercase letter, which no repository name has).
  size_t slash = rest.find('/');
  std::string_view first = rest.substr(0, slash);
  bool names_host =
      slash != std::string_view::npos &&
      (first.find_first_of(".:[ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos ||
       first == "localhost");
  std::string_view name_and_tag = rest;
  if (names_host) {
    if (!is_host(first)) return invalid("bad registry host " + quoted(first));
    reference.host = std::string(first);
    name_and_tag = rest.substr(slash + 1);
  } else {
    reference.host = std::string(kDockerHubHost);
  }

  // A tag's ':' comes after the last '/' (a host's port colon is already gone).
  size_t last_slash = name_and_tag.rfind('/');
  size_t colon = name_and_tag.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
  std::string_view name = name_and_tag.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view tag = name_and_tag.substr(colon + 1);
    if (!is_tag(tag))
      return invalid("bad tag " + quoted(tag) +
                     " (allowed: [A-Za-z0-9_][A-Za-z0-9._-], at most 128)");
    reference.tag = std::string(tag);
  } else if (reference.digest.empty()) {
    reference.tag = "latest";
  }

  if (name.empty()) return invalid("no repository name");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view component = name.substr(start, end - start);
    if (!is_path_component(component)) {
      return invalid("bad repository name component " + quoted(component) +
                     " (lowercase letters and digits, separated by '.', '_', '__' or '-')");
    }
    start = end + 1;
  }
  reference.repository = std::string(name);
  if (!names_host && reference.repository.find('/') == std::string::npos)
    reference.repository = "library/" + reference.repository;
  if (reference.repository.size() > kMaxRepositoryLength)
    return invalid("repository name longer than 255 characters");
  return reference;
}

}  // namespace podrt::oci
