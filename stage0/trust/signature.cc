// Signature checks. Ed25519 is "pure" (no pre-hash), so OpenSSL needs the whole message at once:
// the file is mapped rather than read into memory. ECDSA and RSA hash with SHA-256 as they go.
#include "stage0/trust/signature.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "common/sys/file.h"

namespace podrt::trust {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
using UniquePkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using UniqueMdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

constexpr size_t kChunkBytes = 1 << 20;

std::string take_openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  ERR_clear_error();
  return reason == nullptr ? "unknown OpenSSL error" : reason;
}

/// A read-only private mapping of a whole file, unmapped when it goes. Empty files map to an
/// empty view (mmap refuses length 0).
class MappedFile {
 public:
  static Result<MappedFile> map(int fd, size_t size, const std::string& path) {
    if (size == 0) return MappedFile(nullptr, 0);
    void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED) return Error::from_errno("map " + path);
    return MappedFile(address, size);
  }
  MappedFile(MappedFile&& other) noexcept
      : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (address_ != nullptr) ::munmap(address_, size_);
  }

  const unsigned char* data() const {
    static const unsigned char kNothing = 0;
    return address_ == nullptr ? &kNothing : static_cast<const unsigned char*>(address_);
  }
  size_t size() const { return size_; }

 private:
  MappedFile(void* address, size_t size) : address_(address), size_(size) {}
  void* address_;
  size_t size_;
};

/// The signed file, opened once; only regular files (a FIFO would block, a device never end).
struct OpenedData {
  UniqueFd fd;
  size_t size = 0;
};

Result<OpenedData> open_data(const std::string& path) {
  OpenedData data;
  data.fd = PODRT_TRY(sys::open_file(path, O_RDONLY));
  struct stat st;
  if (::fstat(data.fd.get(), &st) != 0) return Error::from_errno("stat " + path);
  if (!S_ISREG(st.st_mode))
    return Error::invalid(path + " is not a regular file: cannot check its signature");
  data.size = static_cast<size_t>(st.st_size);
  return data;
}

Result<std::string> read_signature(const std::string& path) {
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error::invalid("signature " + path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxSignatureBytes)
    return Error::invalid("signature " + path + " is larger than 16 KiB: not a signature");
  std::string signature(kMaxSignatureBytes + 1, '\0');
  size_t filled = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), signature.data() + filled, signature.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("read " + path);
    if (n == 0) break;
    filled += static_cast<size_t>(n);
    if (filled > kMaxSignatureBytes)  // it grew after the fstat
      return Error::invalid("signature " + path + " is larger than 16 KiB: not a signature");
  }
  if (filled == 0) return Error::invalid("signature " + path + " is empty");
  signature.resize(filled);
  return signature;
}

Result<UniquePkey> load_key(const TrustedKey& key) {
  std::string text = PODRT_TRY(sys::read_file(key.path));
  UniqueBio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  UniquePkey pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey)
    return Error::invalid("trusted key " + key.path + ": " + take_openssl_reason() +
                          " (remove it and trust the key again)");
  return pkey;
}

/// OpenSSL's verify result: 1 matches, 0 does not; a negative value is a malformed signature
/// (a DER ECDSA signature that does not parse, say), which does not match either.
bool matched(int status) {
  ERR_clear_error();
  return status == 1;
}

Result<bool> verify_ed25519(EVP_PKEY* key, const OpenedData& data, const std::string& data_path,
                            const std::string& signature) {
  MappedFile mapped = PODRT_TRY(MappedFile::map(data.fd.get(), data.size, data_path));
  UniqueMdCtx context(EVP_MD_CTX_new());
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key) != 1)
    return Error::invalid("Ed25519 verify: " + take_openssl_reason());
  return matched(EVP_DigestVerify(context.get(),
                                  reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size(), mapped.data(), mapped.size()));
}

Result<bool> verify_sha256(EVP_PKEY* key, const OpenedData& data, const std::string& data_path,
                           const std::string& signature) {
  UniqueMdCtx context(EVP_MD_CTX_new());
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
    return Error::invalid("SHA-256 verify: " + take_openssl_reason());
  std::vector<unsigned char> chunk(kChunkBytes);
  for (;;) {
    ssize_t n = ::read(data.fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("read " + data_path);
    if (n == 0) break;
    if (EVP_DigestVerifyUpdate(context.get(), chunk.data(), static_cast<size_t>(n)) != 1)
      return Error::invalid("SHA-256 verify: " + take_openssl_reason());
  }
  return matched(EVP_DigestVerifyFinal(
      context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size()));
}

}  // namespace

Result<bool> signature_verifies(const std::string& data_path, const std::string& signature_path,
                                const TrustedKey& key) {
  std::string signature = PODRT_TRY(read_signature(signature_path));
  UniquePkey pkey = PODRT_TRY(load_key(key));
  OpenedData data = PODRT_TRY(open_data(data_path));
  if (EVP_PKEY_is_a(pkey.get(), "ED25519") == 1)
    return verify_ed25519(pkey.get(), data, data_path, signature);
  if (EVP_PKEY_is_a(pkey.get(), "EC") == 1 || EVP_PKEY_is_a(pkey.get(), "RSA") == 1)
    return verify_sha256(pkey.get(), data, data_path, signature);
  return Error::invalid("trusted key " + key.path + " is of an unsupported type (remove it)");
}

Result<void> verify_detached_signature(const std::string& data_path,
                                       const std::string& signature_path, const TrustedKey& key) {
  bool verifies = PODRT_TRY(signature_verifies(data_path, signature_path, key));
  if (!verifies)
    return Error::invalid("signature " + signature_path + " over " + data_path +
                          " does not verify with key " + key.fingerprint);
  return ok();
}

}  // namespace podrt::trust
