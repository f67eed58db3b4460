// The challenge grammar is RFC 7235's auth-param list: token=token or token="quoted-string".
#include "stage0/oci/registry_auth.h"

#include <strings.h>

#include "common/appc/json_fields.h"

namespace podrt::oci {
namespace {

constexpr uint64_t kMaxTokenResponseBytes = 1 << 20;

bool is_space(char c) { return c == ' ' || c == '\t'; }

void skip_spaces(std::string_view& text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xf];
    }
  }
  return encoded;
}

/// Reads one auth-param value: a bare token up to ',' or a quoted string.
Result<std::string> read_value(std::string_view& text) {
  std::string value;
  if (!text.empty() && text.front() == '"') {
    text.remove_prefix(1);
    for (;;) {
      if (text.empty()) return Error::invalid("unterminated quoted value");
      char c = text.front();
      text.remove_prefix(1);
      if (c == '"') break;
      if (c == '\\') {
        if (text.empty()) return Error::invalid("unterminated quoted value");
        c = text.front();
        text.remove_prefix(1);
      }
      value += c;
    }
    return value;
  }
  while (!text.empty() && text.front() != ',' && !is_space(text.front())) {
    value += text.front();
    text.remove_prefix(1);
  }
  return value;
}

}  // namespace

Result<BearerChallenge> parse_bearer_challenge(std::string_view www_authenticate) {
  auto invalid = [](const std::string& problem) {
    return Error::invalid("registry auth challenge (WWW-Authenticate): " + problem);
  };
  std::string_view text = www_authenticate;
  skip_spaces(text);
  size_t scheme_end = 0;
  while (scheme_end < text.size() && !is_space(text[scheme_end])) ++scheme_end;
  std::string_view scheme = text.substr(0, scheme_end);
  if (iequals(scheme, "Basic"))
    return invalid(
        "the registry asks for basic auth (a user name and password), which podrt does not "
        "support");
  if (!iequals(scheme, "Bearer")) {
    return invalid("unsupported scheme \"" + std::string(scheme.substr(0, 40)) +
                   "\" (podrt supports Bearer tokens only)");
  }
  text.remove_prefix(scheme_end);

  BearerChallenge challenge;
  for (;;) {
    skip_spaces(text);
    while (!text.empty() && text.front() == ',') {
      text.remove_prefix(1);
      skip_spaces(text);
    }
    if (text.empty()) break;
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) return invalid("parameter without '='");
    std::string_view name = text.substr(0, equals);
    while (!name.empty() && is_space(name.back())) name.remove_suffix(1);
    text.remove_prefix(equals + 1);
    skip_spaces(text);
    auto value = read_value(text);
    if (!value) return invalid(value.error().message());
    if (iequals(name, "realm"))
      challenge.realm = std::move(*value);
    else if (iequals(name, "service"))
      challenge.service = std::move(*value);
    else if (iequals(name, "scope"))
      challenge.scope = std::move(*value);
    skip_spaces(text);
    if (!text.empty() && text.front() != ',') return invalid("expected ',' between parameters");
  }
  if (challenge.realm.empty()) return invalid("Bearer challenge without a realm");
  return challenge;
}

Result<std::string> fetch_bearer_token(HttpClient& client, const BearerChallenge& challenge,
                                       const std::string& repository) {
  std::string scope =
      challenge.scope.empty() ? "repository:" + repository + ":pull" : challenge.scope;
  std::string url = challenge.realm;
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  if (!challenge.service.empty()) {
    url += separator + ("service=" + url_encode(challenge.service));
    separator = '&';
  }
  url += separator + ("scope=" + url_encode(scope));

  std::string what = "get a registry token from " + challenge.realm;
  HttpResponse response = PODRT_TRY_CONTEXT(
      client.get_string(url, {"Accept: application/json"}, kMaxTokenResponseBytes), what);
  if (response.status != 200) return Error::invalid(what + ": " + response.describe_status());
  nlohmann::json document = PODRT_TRY_CONTEXT(appc::parse_json_document(response.body), what);
  if (!document.is_object()) return Error::invalid(what + ": the answer is not a JSON object");
  for (std::string_view key : {"token", "access_token"}) {
    const nlohmann::json* token = appc::find_member(document, key);
    if (token == nullptr || !token->is_string() || token->get_ref<const std::string&>().empty())
      continue;
    const std::string& value = token->get_ref<const std::string&>();
    // It goes into a header line: nothing but visible ASCII may reach it.
    for (char c : value) {
      if (c <= ' ' || c > '~')
        return Error::invalid(what + ": the token has characters a header cannot carry");
    }
    return value;
  }
  return Error::invalid(what + ": the answer has no token");
}

}  // namespace podrt::oci
