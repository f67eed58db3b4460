// Detached signatures as the openssl command makes them, over the exact bytes of a file:
//   Ed25519:          openssl pkeyutl -sign -rawin -inkey KEY.pem -in FILE -out FILE.sig
//   ECDSA P-256, RSA: openssl dgst -sha256 -sign KEY.pem -out FILE.sig FILE
#pragma once

#include <string>

#include "common/result.h"
#include "stage0/trust/trust_store.h"

namespace podrt::trust {

/// Signature files larger than this are refused unread (an RSA-16384 signature is 2 KiB).
inline constexpr size_t kMaxSignatureBytes = 16 * 1024;

/// Whether `signature_path` is `key`'s signature over the bytes of `data_path`. Errors only
/// when a file or the key cannot be read; a signature that does not match is `false`.
Result<bool> signature_verifies(const std::string& data_path, const std::string& signature_path,
                                const TrustedKey& key);

/// The same, with a signature that does not match reported as an error.
Result<void> verify_detached_signature(const std::string& data_path,
                                       const std::string& signature_path, const TrustedKey& key);

}  // namespace podrt::trust
