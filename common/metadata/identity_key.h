// The host's pod identity key: pods sign content through the metadata service, and any pod on
// the same host can have a signature verified (ace.md "Identity Endpoint").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace podrt::metadata {

/// signature = base64(HMAC-SHA512(key, pod_uuid || 0x00 || content)): standard base64 (RFC 4648
/// section 4, '+' and '/', '=' padding), always 88 characters. pod_uuid is the UUID string exactly
/// as the pod's stage1 knows it (canonical lowercase form); the 0x00 separator keeps (uuid,
/// content) pairs from colliding, so a uuid containing 0x00 never signs nor verifies. (rkt hashed
/// the 16 raw uuid bytes instead; signatures are not portable between rkt and podrt hosts either
/// way, since the key is per host.)
class IdentityKey {
 public:
  static constexpr size_t kSize = 64;           ///< bytes of key: SHA-512's block size
  static constexpr size_t kSignatureSize = 88;  ///< base64 of 64 bytes

  /// Reads the key at `path`, or creates it (random, mode 0600, written atomically). Processes
  /// racing to create it all end up with the one that won. A key file of the wrong size, not a
  /// regular file, or readable by group or others is an error, never silently replaced.
  static Result<IdentityKey> load_or_create(const std::string& path);
  /// The signature of `content` by pod `pod_uuid`; empty only if OpenSSL fails (out of memory),
  /// or if pod_uuid contains 0x00.
  std::string sign(std::string_view pod_uuid, std::string_view content) const;
  /// True when `signature` is sign(pod_uuid, content); compared in constant time.
  bool verify(std::string_view pod_uuid, std::string_view content,
              std::string_view signature) const;

 private:
  explicit IdentityKey(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace podrt::metadata
