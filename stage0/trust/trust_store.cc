// The trust store: keys are checked and re-encoded by OpenSSL on the way in, and checked again
// (fingerprint against file name) on the way out, so a stray file never becomes a trusted key.
#include "stage0/trust/trust_store.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <set>
#include <tuple>

#include "common/sys/file.h"

namespace podrt::trust {
namespace {

namespace fs = std::filesystem;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;  // bigger keys only make verification slow
constexpr std::string_view kFingerprintScheme = "sha256:";
constexpr std::string_view kKeyFileSuffix = ".pem";

constexpr std::string_view kSupported = "(podrt trusts Ed25519, ECDSA P-256 and RSA 2048+ keys)";

/// OpenSSL's reason for the last failure, and an empty error queue for whoever comes next.
std::string take_openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  ERR_clear_error();
  return reason == nullptr ? "unknown OpenSSL error" : reason;
}

std::string to_hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0xf];
  }
  return hex;
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

size_t count_occurrences(std::string_view text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size()))
    ++count;
  return count;
}

Result<std::string> algorithm_of(EVP_PKEY* key, const std::string& source) {
  if (EVP_PKEY_is_a(key, "ED25519") == 1) return std::string("ed25519");
  if (EVP_PKEY_is_a(key, "EC") == 1) {
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &length) != 1) {
      ERR_clear_error();
      return Error::invalid(source + ": EC key without a named curve " + std::string(kSupported));
    }
    if (std::string_view(group) != "prime256v1")
      return Error::invalid(source + ": EC curve " + group + " is not supported " +
                            std::string(kSupported));
    return std::string("ecdsa-p256");
  }
  if (EVP_PKEY_is_a(key, "RSA") == 1) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits)
      return Error::invalid(source + ": RSA key of " + std::to_string(bits) + " bits is too weak " +
                            std::string(kSupported));
    if (bits > kMaxRsaBits)
      return Error::invalid(source + ": RSA key of " + std::to_string(bits) +
                            " bits is larger than the 16384 podrt accepts");
    return "rsa-" + std::to_string(bits);
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return Error::invalid(source + ": " + (type == nullptr ? "this" : type) +
                        " keys are not supported " + std::string(kSupported));
}

Result<std::string> fingerprint_of(EVP_PKEY* key, const std::string& source) {
  int length = i2d_PUBKEY(key, nullptr);
  if (length <= 0) return Error::invalid(source + ": encode public key: " + take_openssl_reason());
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_PUBKEY(key, &out) != length)
    return Error::invalid(source + ": encode public key: " + take_openssl_reason());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(der.data(), der.size(), digest, &digest_length, EVP_sha256(), nullptr) != 1)
    return Error::invalid(source + ": sha256: " + take_openssl_reason());
  return std::string(kFingerprintScheme) + to_hex(digest, digest_length);
}

Result<std::string> canonical_pem(EVP_PKEY* key, const std::string& source) {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    return Error::invalid(source + ": encode PEM: " + take_openssl_reason());
  char* data = nullptr;
  long length = BIO_ctrl(bio.get(), BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data, cast-free
  if (length <= 0 || data == nullptr) return Error::invalid(source + ": encode PEM: empty");
  return std::string(data, static_cast<size_t>(length));
}

/// "<64 hex digits>.pem" -> the hex; "" for any other name (temporary files, strays).
std::string fingerprint_hex_of_file_name(const std::string& name) {
  constexpr size_t kHexLength = 64;
  if (name.size() != kHexLength + kKeyFileSuffix.size() || !name.ends_with(kKeyFileSuffix))
    return "";
  std::string hex = name.substr(0, kHexLength);
  return is_lower_hex(hex) ? hex : "";
}

std::string hex_of(const std::string& fingerprint) {
  return fingerprint.substr(kFingerprintScheme.size());
}

}  // namespace

Result<PublicKeyFacts> inspect_public_key(std::string_view pem_text, const std::string& source) {
  if (pem_text.size() > kMaxKeyFileBytes)
    return Error::invalid(source + " is larger than 64 KiB: not a PEM public key");
  // Checked before OpenSSL sees it: PEM_read_bio_PUBKEY would skip a private key block.
  if (pem_text.find("PRIVATE KEY-----") != std::string_view::npos)
    return Error::invalid(source +
                          " holds a private key: give its public half "
                          "(openssl pkey -in KEY.pem -pubout -out KEY.pub.pem)");
  size_t blocks = count_occurrences(pem_text, "-----BEGIN ");
  if (blocks == 0)
    return Error::invalid(source + " is not a PEM public key (no -----BEGIN PUBLIC KEY----- line)");
  if (blocks > 1)
    return Error::invalid(source + " holds " + std::to_string(blocks) +
                          " PEM blocks: give one public key per file");

  UniqueBio bio(BIO_new_mem_buf(pem_text.data(), static_cast<int>(pem_text.size())));
  if (!bio) return Error::invalid(source + ": " + take_openssl_reason());
  UniquePkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return Error::invalid(source + " is not a PEM public key (" + take_openssl_reason() +
                          "; expected -----BEGIN PUBLIC KEY-----)");

  PublicKeyFacts facts;
  facts.algorithm = PODRT_TRY(algorithm_of(key.get(), source));
  facts.fingerprint = PODRT_TRY(fingerprint_of(key.get(), source));
  facts.pem = PODRT_TRY(canonical_pem(key.get(), source));
  return facts;
}

bool prefix_matches(std::string_view prefix, std::string_view image_name) {
  if (prefix.empty()) return true;
  if (!image_name.starts_with(prefix)) return false;
  return image_name.size() == prefix.size() || image_name[prefix.size()] == '/';
}

Result<void> validate_prefix(std::string_view prefix) {
  const std::string quoted = "prefix \"" + std::string(prefix) + "\"";
  if (prefix.empty())
    return Error::invalid("an empty prefix would cover every image: use --root for that");
  if (prefix.size() > 512) return Error::invalid("prefix is longer than 512 characters");
  for (char c : prefix) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                   c == '~' || c == '-' || c == '/';
    if (!allowed)
      return Error::invalid(quoted +
                            " is not an image name prefix: only lowercase a-z, 0-9 "
                            "and . _ ~ - / are allowed");
  }
  size_t start = 0;
  while (start <= prefix.size()) {
    size_t slash = prefix.find('/', start);
    if (slash == std::string_view::npos) slash = prefix.size();
    std::string_view component = prefix.substr(start, slash - start);
    if (component.empty() || component == "." || component == "..")
      return Error::invalid(quoted +
                            " is not an image name prefix: empty, \".\" or \"..\" "
                            "component (like example.com/app)");
    start = slash + 1;
  }
  return ok();
}

Result<TrustStore> TrustStore::open(const std::string& trust_dir) {
  if (trust_dir.empty()) return Error::invalid("trust store: empty directory name");
  std::error_code ec;
  fs::file_status status = fs::symlink_status(trust_dir, ec);
  if (fs::exists(status) && !fs::is_directory(status))
    return Error::invalid("trust store " + trust_dir + " is not a directory");
  return TrustStore(trust_dir);
}

Result<TrustedKey> TrustStore::add(const std::string& prefix, bool root,
                                   const std::string& pem_path) {
  if (root && !prefix.empty()) return Error::invalid("give either --prefix or --root, not both");
  if (!root) PODRT_TRY(validate_prefix(prefix));

  std::error_code ec;
  uintmax_t size = fs::file_size(pem_path, ec);
  if (!ec && size > kMaxKeyFileBytes)
    return Error::invalid(pem_path + " is larger than 64 KiB: not a PEM public key");
  std::string text = PODRT_TRY(sys::read_file(pem_path));
  PublicKeyFacts facts = PODRT_TRY(inspect_public_key(text, pem_path));

  std::string directory = root ? root_dir() : prefix_dir() + "/" + prefix;
  PODRT_TRY(sys::make_directories(directory, 0755));
  TrustedKey key;
  key.prefix = root ? "" : prefix;
  key.fingerprint = facts.fingerprint;
  key.algorithm = facts.algorithm;
  key.path = directory + "/" + hex_of(facts.fingerprint) + std::string(kKeyFileSuffix);
  PODRT_TRY(sys::write_file_atomic(key.path, facts.pem, 0644));
  PODRT_TRY(sys::sync_directory(directory));
  return key;
}

Result<void> TrustStore::collect(const std::string& top, bool root,
                                 std::vector<TrustedKey>& keys) const {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(top, ec))) return ok();
  fs::recursive_directory_iterator it(top, fs::directory_options::none, ec);
  if (ec) return Error::with_code(ec.value(), "read trust store " + top);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Error::with_code(ec.value(), "read trust store " + top);
    const fs::path& path = it->path();
    fs::file_status status = it->symlink_status(ec);
    if (ec) return Error::with_code(ec.value(), "stat " + path.string());
    if (fs::is_directory(status)) {
      if (root) it.disable_recursion_pending();  // root.d holds key files only
      continue;
    }
    // Only regular files named by a fingerprint; symlinks and leftovers are never keys.
    std::string hex = fingerprint_hex_of_file_name(path.filename().string());
    if (!fs::is_regular_file(status) || hex.empty()) continue;

    TrustedKey key;
    key.path = path.string();
    if (!root) {
      key.prefix = path.parent_path().lexically_relative(top).string();
      if (key.prefix == "." || !validate_prefix(key.prefix)) continue;
    }
    std::string text = PODRT_TRY(sys::read_file(key.path));
    PublicKeyFacts facts = PODRT_TRY(inspect_public_key(text, "trust store file " + key.path));
    if (hex_of(facts.fingerprint) != hex)
      return Error::invalid("trust store file " + key.path + " holds key " + facts.fingerprint +
                            ", not the one its name says (remove the file)");
    key.fingerprint = facts.fingerprint;
    key.algorithm = facts.algorithm;
    keys.push_back(std::move(key));
  }
  if (ec) return Error::with_code(ec.value(), "read trust store " + top);
  return ok();
}

Result<std::vector<TrustedKey>> TrustStore::list() const {
  std::vector<TrustedKey> keys;
  PODRT_TRY(collect(root_dir(), /*root=*/true, keys));
  PODRT_TRY(collect(prefix_dir(), /*root=*/false, keys));
  std::sort(keys.begin(), keys.end(), [](const TrustedKey& a, const TrustedKey& b) {
    return std::tie(a.prefix, a.fingerprint) < std::tie(b.prefix, b.fingerprint);
  });
  return keys;
}

Result<std::vector<TrustedKey>> TrustStore::remove(const std::string& what, RemoveBy by) {
  std::vector<TrustedKey> keys = PODRT_TRY(list());
  std::vector<TrustedKey> chosen;
  constexpr std::string_view kHint = " (podrt trust list shows the trusted keys)";
  if (by == RemoveBy::Prefix) {
    PODRT_TRY(validate_prefix(what));
    for (const TrustedKey& key : keys)
      if (key.prefix == what) chosen.push_back(key);
    if (chosen.empty())
      return Error::invalid("no key is trusted for prefix " + what + std::string(kHint));
  } else {
    std::string hex = what.starts_with(kFingerprintScheme) ? hex_of(what) : what;
    std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) {
      return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (hex.empty() || hex.size() > 64 || !is_lower_hex(hex))
      return Error::invalid("\"" + what + "\" is not a key fingerprint like sha256:<hex>" +
                            std::string(kHint));
    std::set<std::string> fingerprints;
    for (const TrustedKey& key : keys) {
      if (!hex_of(key.fingerprint).starts_with(hex)) continue;
      chosen.push_back(key);
      fingerprints.insert(key.fingerprint);
    }
    if (chosen.empty())
      return Error::invalid("no trusted key has fingerprint " + what + std::string(kHint));
    if (fingerprints.size() > 1)
      return Error::invalid("fingerprint " + what + " is ambiguous: it starts " +
                            *fingerprints.begin() + " and " + *std::next(fingerprints.begin()) +
                            " (give more digits)");
  }

  for (const TrustedKey& key : chosen) {
    if (::unlink(key.path.c_str()) != 0 && errno != ENOENT)
      return Error::from_errno("remove " + key.path);
    // Drop prefix directories left empty, up to prefix.d itself.
    fs::path directory = fs::path(key.path).parent_path();
    PODRT_TRY(sys::sync_directory(directory.string()));
    if (key.prefix.empty()) continue;
    const size_t top_length = prefix_dir().size();
    for (; directory.native().size() > top_length; directory = directory.parent_path())
      if (::rmdir(directory.c_str()) != 0) break;  // not empty: another prefix lives here
  }
  return chosen;
}

Result<std::vector<TrustedKey>> TrustStore::keys_for(const std::string& image_name) const {
  std::vector<TrustedKey> keys = PODRT_TRY(list());
  std::erase_if(keys,
                [&](const TrustedKey& key) { return !prefix_matches(key.prefix, image_name); });
  return keys;
}

}  // namespace podrt::trust
