// Sha512: incremental SHA-512 (OpenSSL EVP) for content-addressed image ids ("sha512-<hex>").
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>

#include "common/result.h"

namespace podrt {

/// An incremental SHA-512 digest. Move-only; the OpenSSL context is owned and freed with it.
class Sha512 {
 public:
  Sha512();
  Sha512(Sha512&&) noexcept = default;
  Sha512& operator=(Sha512&&) noexcept = default;

  /// Adds `size` bytes at `data` to the digest.
  void update(const void* data, size_t size);
  /// Finishes the digest and returns it as 128 lowercase hex digits. Call once; the object is
  /// spent afterwards (further updates start nothing new).
  std::string hex_digest();

 private:
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context_;
};

/// The SHA-512 of a whole file, as 128 lowercase hex digits.
Result<std::string> sha512_file_hex(const std::string& path);

}  // namespace podrt
