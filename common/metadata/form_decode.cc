#include "common/metadata/form_decode.h"

namespace podrt::metadata {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int low = high >= 0 ? hex_value(text[i + 2]) : -1;
      if (low < 0)
        return Error::invalid("decode form: bad %-escape at offset " + std::to_string(i));
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> decode_form(std::string_view body) {
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
    size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0)
      return Error::invalid("decode form: field without a name or '='");
    std::string name = PODRT_TRY(unescape(pair.substr(0, equals)));
    std::string value = PODRT_TRY(unescape(pair.substr(equals + 1)));
    if (!fields.emplace(name, std::move(value)).second)
      return Error::invalid("decode form: field given twice");
  }
  return fields;
}

}  // namespace podrt::metadata
