// The host's pod identity key: pods sign content through the metadata service, and any pod on
// the same host can have a signature verified (ace.md "Identity Endpoint").
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::metadata {

class IdentityKey {
 public:
  /// Reads the key at `path`, or creates it (random, mode 0600, written atomically).
  static Result<IdentityKey> load_or_create(const std::string& path);
  /// HMAC-SHA512 of the pod uuid and content, base64.
  std::string sign(std::string_view pod_uuid, std::string_view content) const;
  bool verify(std::string_view pod_uuid, std::string_view content, std::string_view signature) const;

 private:
  explicit IdentityKey(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace podrt::metadata
