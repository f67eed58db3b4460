#include "common/metadata/access_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace podrt::metadata {

Result<std::string> random_access_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    return Error::invalid("generate metadata service token: RAND_bytes failed");
  constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char byte : bytes) {
    token += kHex[byte >> 4];
    token += kHex[byte & 0xf];
  }
  return token;
}

bool access_token_matches(std::string_view expected, std::string_view given) {
  if (expected.size() != given.size() || expected.empty()) return false;
  return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace podrt::metadata
