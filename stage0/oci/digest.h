// Content digests as OCI and the registry API write them: "sha256:<64 lowercase hex>".
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::oci {

/// Checks that `text` is "sha256:" followed by 64 lowercase hex digits and returns it. Other
/// algorithms (sha512 included) are refused with a one-line error: podrt verifies sha256 only.
Result<std::string> parse_digest(std::string_view text);

/// The digest as a file name: "sha256-<hex>" (no ':'), for cas/layer/ and work files.
std::string digest_file_name(const std::string& digest);

/// A running SHA-256 over bytes as they pass.
class Sha256 {
 public:
  Sha256();
  void update(std::span<const unsigned char> bytes);
  void update(std::string_view bytes);
  /// "sha256:<hex>"; call once.
  std::string digest();

 private:
  struct Deleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, Deleter> context_;
};

/// "sha256:<hex>" of a file's bytes.
Result<std::string> sha256_of_file(const std::string& path);

/// Fails with "<what>: digest mismatch: expected X, got Y" unless they are equal.
Result<void> expect_digest(const std::string& what, const std::string& expected,
                           const std::string& actual);

}  // namespace podrt::oci
