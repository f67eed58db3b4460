// rkt's trust model for fetched images: IMAGE.sig beside IMAGE must verify with a trusted key,
// and that key must be trusted for the image's name (its prefix, or a root key).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "stage0/trust/trust_store.h"

namespace podrt::trust {

/// Every key in `store` whose signature `signature_path` is over the bytes of `image_path`.
/// Errors when the signature is missing, no key is trusted, or no trusted key verifies it.
Result<std::vector<TrustedKey>> verify_image_signature(const TrustStore& store,
                                                       const std::string& image_path,
                                                       const std::string& signature_path);

/// Succeeds when one of `verified_by` is a root key or is trusted for a prefix of `image_name`
/// (known only once the manifest is read, hence a separate step).
Result<void> check_trusted_for(const std::vector<TrustedKey>& verified_by,
                               const std::string& image_name);

}  // namespace podrt::trust
