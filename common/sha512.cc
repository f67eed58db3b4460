// SHA-512 through OpenSSL's EVP interface. A failed allocation or init terminates (like OOM).
#include "common/sha512.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "common/sys/file.h"

namespace podrt {

Sha512::Sha512() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha512(), nullptr) != 1) std::abort();
}

void Sha512::update(const void* data, size_t size) {
  if (size == 0) return;
  if (EVP_DigestUpdate(context_.get(), data, size) != 1) std::abort();
}

std::string Sha512::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_.get(), digest, &length) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(static_cast<size_t>(length) * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

Result<std::string> sha512_file_hex(const std::string& path) {
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_RDONLY));
  Sha512 sha;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("read " + path);
    }
    if (n == 0) break;
    sha.update(buffer.data(), static_cast<size_t>(n));
  }
  return sha.hex_digest();
}

}  // namespace podrt
