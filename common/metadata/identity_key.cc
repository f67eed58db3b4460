#include "common/metadata/identity_key.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>

#include "common/sys/file.h"
#include "common/unique_fd.h"

namespace podrt::metadata {
namespace {

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

/// The key at `path`, or nullopt when there is none yet.
Result<std::optional<std::string>> read_key(const std::string& path) {
  // O_NOFOLLOW: a symlink planted at the key's path must not redirect where the secret is read.
  auto opened = sys::open_file(path, O_RDONLY | O_NOFOLLOW);
  if (!opened) {
    if (opened.error().code() == ENOENT) return std::optional<std::string>();
    return std::move(opened).error().with_context("read identity key");
  }
  UniqueFd fd = std::move(*opened);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat identity key " + path);
  if (!S_ISREG(st.st_mode))
    return Error::invalid("identity key " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return Error::invalid("identity key " + path + " is accessible by group or others (mode " +
                          octal_mode(st.st_mode) + "); expected 0600");
  if (static_cast<size_t>(st.st_size) != IdentityKey::kSize)
    return Error::invalid("identity key " + path + " is corrupt: " + std::to_string(st.st_size) +
                          " bytes, expected " + std::to_string(IdentityKey::kSize));
  std::string key(IdentityKey::kSize, '\0');
  size_t done = 0;
  while (done < key.size()) {
    ssize_t n = ::read(fd.get(), key.data() + done, key.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("read identity key " + path);
    if (n == 0)
      return Error::invalid("identity key " + path + " is corrupt: shorter than its size");
    done += static_cast<size_t>(n);
  }
  return std::optional<std::string>(std::move(key));
}

Result<void> write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("write " + path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

/// Writes `key` to a fresh temporary file and links it to `path`. link(2), unlike rename(2), never
/// replaces an existing file, so of two racing creators exactly one wins; false means another
/// process's key is already there.
Result<bool> publish_key(const std::string& path, const std::string& key) {
  unsigned char nonce[8];
  if (RAND_bytes(nonce, sizeof nonce) != 1)
    return Error::invalid("create identity key: RAND_bytes failed");
  std::string temporary = path + ".tmp-" + std::to_string(::getpid()) + "-";
  for (unsigned char byte : nonce) temporary += std::to_string(byte);
  {
    UniqueFd fd = PODRT_TRY(sys::open_file(temporary, O_WRONLY | O_CREAT | O_EXCL, 0600));
    Result<void> written = ok();
    // fchmod: the umask could only narrow 0600, but an explicit mode says what the file must be.
    if (::fchmod(fd.get(), 0600) != 0) written = Error::from_errno("chmod " + temporary);
    if (written) written = write_all(fd.get(), key, temporary);
    if (written && ::fsync(fd.get()) != 0) written = Error::from_errno("fsync " + temporary);
    if (!written) {
      ::unlink(temporary.c_str());
      return std::move(written).error();
    }
  }
  int linked = ::link(temporary.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(temporary.c_str());
  if (linked == 0) return true;
  if (link_errno == EEXIST) return false;
  return Error::with_code(link_errno, "link " + temporary + " to " + path);
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<IdentityKey> IdentityKey::load_or_create(const std::string& path) {
  // Two rounds: if we lose the race to create, the winner's key is there to read.
  for (int round = 0; round < 2; ++round) {
    std::optional<std::string> existing = PODRT_TRY(read_key(path));
    if (existing) return IdentityKey(std::move(*existing));

    std::string parent = parent_of(path);
    PODRT_TRY_CONTEXT(sys::make_directories(parent, 0700), "create identity key " + path);
    std::string key(kSize, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
      return Error::invalid("create identity key " + path + ": RAND_bytes failed");
    bool published = PODRT_TRY_CONTEXT(publish_key(path, key), "create identity key " + path);
    if (published) {
      PODRT_TRY_CONTEXT(sys::sync_directory(parent), "create identity key " + path);
      return IdentityKey(std::move(key));
    }
  }
  return Error::invalid("create identity key " + path + ": it keeps disappearing while being read");
}

std::string IdentityKey::sign(std::string_view pod_uuid, std::string_view content) const {
  if (pod_uuid.find('\0') != std::string_view::npos) return {};
  std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return {};
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return {};
  char digest_name[] = "SHA512";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  const unsigned char separator = 0;
  unsigned char mac_bytes[EVP_MAX_MD_SIZE];
  size_t mac_size = 0;
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key_.data()), key_.size(),
                   params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(pod_uuid.data()),
                     pod_uuid.size()) != 1 ||
      EVP_MAC_update(ctx.get(), &separator, 1) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(content.data()),
                     content.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac_bytes, &mac_size, sizeof mac_bytes) != 1 || mac_size != 64)
    return {};
  std::string encoded(kSignatureSize + 1, '\0');  // EVP_EncodeBlock adds a NUL
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), mac_bytes,
                               static_cast<int>(mac_size));
  encoded.resize(static_cast<size_t>(length));
  return encoded;
}

bool IdentityKey::verify(std::string_view pod_uuid, std::string_view content,
                         std::string_view signature) const {
  std::string expected = sign(pod_uuid, content);
  // Every signature has the same length, so checking it first tells an attacker nothing.
  if (expected.size() != kSignatureSize || signature.size() != kSignatureSize) return false;
  return CRYPTO_memcmp(expected.data(), signature.data(), kSignatureSize) == 0;
}

}  // namespace podrt::metadata
