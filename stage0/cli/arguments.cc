#include "stage0/cli/arguments.h"

#include <charconv>

namespace podrt::cli {
namespace {

Result<uint64_t> parse_number(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data())
    return Error::invalid("bad " + std::string(what) + " \"" + std::string(text) + "\"");
  return value;
}

}  // namespace

Result<int64_t> parse_duration(std::string_view text) {
  auto bad = [&] { return Error::invalid("bad duration \"" + std::string(text) + "\" (e.g. 30m, 24h, 90s)"); };
  if (text == "0") return 0;
  if (text.empty()) return bad();
  int64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0 || digits == rest.size() || digits > 12) return bad();
    uint64_t amount = PODRT_TRY(parse_number(rest.substr(0, digits), "duration"));
    char unit = rest[digits];
    int64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
    if (scale == 0) return bad();
    total += static_cast<int64_t>(amount) * scale;
    rest.remove_prefix(digits + 1);
  }
  return total;
}

Result<uint64_t> parse_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 15) return Error::invalid("bad size \"" + std::string(text) + "\"");
  uint64_t amount = PODRT_TRY(parse_number(text.substr(0, digits), "size"));
  std::string_view unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "Ki") scale = 1ULL << 10;
  else if (unit == "M" || unit == "Mi") scale = 1ULL << 20;
  else if (unit == "G" || unit == "Gi") scale = 1ULL << 30;
  else if (unit == "T" || unit == "Ti") scale = 1ULL << 40;
  if (scale == 0) return Error::invalid("bad size \"" + std::string(text) + "\" (e.g. 100M, 16G)");
  return amount * scale;
}

Result<std::set<std::string>> parse_insecure_options(std::string_view text) {
  static const std::set<std::string> kKnown = {"none", "image", "tls", "http", "pubkey",
                                               "capabilities", "paths", "seccomp", "ondisk"};
  std::set<std::string> options;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string option(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (option == "all-fetch" || option == "all") options.insert({"image", "tls", "http"});
    if (option == "all-run" || option == "all") options.insert({"capabilities", "paths", "seccomp"});
    if (option == "all-fetch" || option == "all-run" || option == "all") continue;
    if (!kKnown.count(option))
      return Error::invalid("unknown insecure option \"" + option +
                            "\" (none, image, tls, http, pubkey, capabilities, paths, seccomp, "
                            "all-fetch, all-run, all)");
    if (option != "none" && option != "ondisk") options.insert(option);
  }
  return options;
}

Result<image::FetchPolicy> make_fetch_policy(std::string_view insecure_options,
                                             std::string_view max_image_size) {
  image::FetchPolicy policy;
  policy.insecure_options = PODRT_TRY(parse_insecure_options(insecure_options));
  policy.limits.max_unpacked_bytes = PODRT_TRY(parse_size(max_image_size));
  return policy;
}

}  // namespace podrt::cli
