// The keys an administrator trusts to sign images, stored as rkt stores them: one PEM public
// key per file under root.d/ (trusted for every image) or prefix.d/<image name prefix>/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace podrt::trust {

struct TrustedKey {
  std::string prefix;       ///< "" for a root key, trusted for every image
  std::string fingerprint;  ///< "sha256:<hex>" of the DER SubjectPublicKeyInfo
  std::string algorithm;    ///< "ed25519", "ecdsa-p256" or "rsa-<bits>"
  std::string path;         ///< the stored PEM file
};

/// A public key OpenSSL accepted and podrt supports, re-encoded as canonical PEM.
struct PublicKeyFacts {
  std::string fingerprint;
  std::string algorithm;
  std::string pem;
};

/// Parses one PEM public key (Ed25519, EC P-256 or RSA of 2048 bits or more); refuses private
/// keys, other algorithms and anything else. `source` names the input in errors.
Result<PublicKeyFacts> inspect_public_key(std::string_view pem_text, const std::string& source);

/// Whether `prefix` covers `image_name` component-wise: "example.com/app" covers
/// "example.com/app" and "example.com/app/x" but not "example.com/apple"; "" covers everything.
bool prefix_matches(std::string_view prefix, std::string_view image_name);

/// Refuses prefixes that are not image-name-like: lowercase [a-z0-9._~/-], no empty, "." or
/// ".." components (so no leading or trailing '/').
Result<void> validate_prefix(std::string_view prefix);

/// How TrustStore::remove picks the keys to remove.
enum class RemoveBy {
  Fingerprint,  ///< "sha256:<hex>", "<hex>" or a unique leading part of the hex
  Prefix,       ///< every key trusted for exactly this prefix
};

class TrustStore {
 public:
  /// The store under `trust_dir`; nothing is created until a key is added.
  static Result<TrustStore> open(const std::string& trust_dir);

  /// Trusts the public key in `pem_path` for `prefix`, or for every image when `root` (then
  /// `prefix` must be empty). Adding a key that is already there is not an error.
  Result<TrustedKey> add(const std::string& prefix, bool root, const std::string& pem_path);
  /// Every stored key, root keys first, then by prefix and fingerprint.
  Result<std::vector<TrustedKey>> list() const;
  /// Removes the keys `what` names; returns them. Removing nothing is an error.
  Result<std::vector<TrustedKey>> remove(const std::string& what, RemoveBy by);
  /// The keys trusted for `image_name`: root keys and keys whose prefix matches it.
  Result<std::vector<TrustedKey>> keys_for(const std::string& image_name) const;

  const std::string& directory() const { return trust_dir_; }

 private:
  explicit TrustStore(std::string trust_dir) : trust_dir_(std::move(trust_dir)) {}
  std::string root_dir() const { return trust_dir_ + "/root.d"; }
  std::string prefix_dir() const { return trust_dir_ + "/prefix.d"; }
  Result<void> collect(const std::string& top, bool root, std::vector<TrustedKey>& keys) const;

  std::string trust_dir_;
};

}  // namespace podrt::trust
