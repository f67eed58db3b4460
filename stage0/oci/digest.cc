// sha256 digests through OpenSSL's EVP interface. A failed allocation or init terminates (like OOM).
#include "stage0/oci/digest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "common/sys/file.h"

namespace podrt::oci {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";
constexpr size_t kSha256HexLength = 64;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/// The digest quoted for a message, cut short so a hostile document cannot flood the line.
std::string quoted_for_message(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  std::string shown(text.substr(0, kMaxShown));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > kMaxShown) shown += "...";
  return "\"" + shown + "\"";
}

}  // namespace

Result<std::string> parse_digest(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return Error::invalid("invalid digest " + quoted_for_message(text) + ": expected sha256:<hex>");
  std::string_view algorithm = text.substr(0, colon);
  if (algorithm != kSha256Prefix.substr(0, kSha256Prefix.size() - 1)) {
    return Error::invalid("unsupported digest algorithm in " + quoted_for_message(text) +
                          ": podrt verifies sha256 only");
  }
  std::string_view hex = text.substr(colon + 1);
  if (hex.size() != kSha256HexLength) {
    return Error::invalid("invalid digest " + quoted_for_message(text) +
                          ": expected 64 lowercase hex digits after sha256:");
  }
  for (char c : hex) {
    if (!is_lower_hex(c)) {
      return Error::invalid("invalid digest " + quoted_for_message(text) +
                            ": expected 64 lowercase hex digits after sha256:");
    }
  }
  return std::string(text);
}

std::string digest_file_name(const std::string& digest) {
  std::string name = digest;
  size_t colon = name.find(':');
  if (colon != std::string::npos) name[colon] = '-';
  return name;
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

void Sha256::update(std::span<const unsigned char> bytes) {
  if (bytes.empty()) return;
  if (EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()) != 1) std::abort();
}

void Sha256::update(std::string_view bytes) {
  update(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(bytes.data()),
                                        bytes.size()));
}

std::string Sha256::digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_.get(), digest, &length) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string result(kSha256Prefix);
  result.reserve(kSha256Prefix.size() + static_cast<size_t>(length) * 2);
  for (unsigned int i = 0; i < length; ++i) {
    result += kHex[digest[i] >> 4];
    result += kHex[digest[i] & 0xf];
  }
  return result;
}

Result<std::string> sha256_of_file(const std::string& path) {
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_RDONLY));
  Sha256 sha;
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("read " + path);
    }
    if (n == 0) break;
    sha.update(std::span<const unsigned char>(buffer.data(), static_cast<size_t>(n)));
  }
  return sha.digest();
}

Result<void> expect_digest(const std::string& what, const std::string& expected,
                           const std::string& actual) {
  if (expected == actual) return ok();
  return Error::invalid(what + ": digest mismatch: expected " + expected + ", got " + actual);
}

}  // namespace podrt::oci
