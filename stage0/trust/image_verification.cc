// Image signature checks, with errors that say what to do: trust a key, sign the image, or
// skip the check on purpose.
#include "stage0/trust/image_verification.h"

#include <map>

#include "common/sys/file.h"
#include "stage0/trust/signature.h"

namespace podrt::trust {
namespace {

constexpr std::string_view kSkipHint = "--insecure-options=image skips the check";

std::string trust_hint(const std::string& name) {
  return "(podrt trust --prefix " + name + " KEY.pem trusts a key; " + std::string(kSkipHint) + ")";
}

}  // namespace

Result<std::vector<TrustedKey>> verify_image_signature(const TrustStore& store,
                                                       const std::string& image_path,
                                                       const std::string& signature_path) {
  if (!sys::path_exists(signature_path))
    return Error::invalid(image_path + " is not signed: no " + signature_path +
                          " (openssl makes one, see podrt trust --help; " + std::string(kSkipHint) +
                          ")");
  std::vector<TrustedKey> keys = PODRT_TRY(store.list());
  if (keys.empty())
    return Error::invalid(image_path + " is signed, but no keys are trusted to check it " +
                          trust_hint("NAME"));

  // A key trusted for several prefixes is one key: check its signature once.
  std::map<std::string, bool> verdict_by_fingerprint;
  std::vector<TrustedKey> verified;
  for (const TrustedKey& key : keys) {
    auto [verdict, is_new] = verdict_by_fingerprint.try_emplace(key.fingerprint, false);
    if (is_new) verdict->second = PODRT_TRY(signature_verifies(image_path, signature_path, key));
    if (verdict->second) verified.push_back(key);
  }
  if (verified.empty())
    return Error::invalid("signature " + signature_path +
                          " does not verify with any trusted key: " + image_path +
                          " was changed after signing or was signed by a key that is "
                          "not trusted " +
                          trust_hint("NAME"));
  return verified;
}

Result<void> check_trusted_for(const std::vector<TrustedKey>& verified_by,
                               const std::string& image_name) {
  if (verified_by.empty())
    return Error::invalid("image " + image_name + " is not signed by a trusted key " +
                          trust_hint(image_name));
  for (const TrustedKey& key : verified_by)
    if (prefix_matches(key.prefix, image_name)) return ok();

  // Name each signing key once, with every prefix it is trusted for.
  std::map<std::string, std::string> prefixes_by_fingerprint;
  for (const TrustedKey& key : verified_by) {
    std::string& prefixes = prefixes_by_fingerprint[key.fingerprint];
    prefixes += (prefixes.empty() ? "" : ", ") + key.prefix;
  }
  std::string signers;
  for (const auto& [fingerprint, prefixes] : prefixes_by_fingerprint)
    signers += (signers.empty() ? "" : "; ") + fingerprint + " is trusted for prefix " + prefixes;
  return Error::invalid("image " + image_name + " is signed by a key that is not trusted for it: " +
                        signers + " " + trust_hint(image_name));
}

}  // namespace podrt::trust
