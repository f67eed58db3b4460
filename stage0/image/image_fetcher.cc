#include "stage0/image/image_fetcher.h"

#include <sys/stat.h>

#include <optional>
#include <string_view>

#include "common/log.h"
#include "common/sys/file.h"
#include "stage0/oci/docker_archive_source.h"
#include "stage0/oci/oci_layout_source.h"
#include "stage0/oci/registry_reference.h"
#include "stage0/oci/registry_source.h"
#include "stage0/trust/image_verification.h"
#include "stage0/trust/trust_store.h"

namespace podrt::image {
namespace {

constexpr std::string_view kFileScheme = "file://";
constexpr std::string_view kDockerArchiveScheme = "docker-archive:";
constexpr std::string_view kOciLayoutScheme = "oci-layout:";
constexpr std::string_view kRegistryScheme = "docker://";

std::optional<std::string> after_scheme(const std::string& reference, std::string_view scheme) {
  if (reference.rfind(scheme, 0) != 0) return std::nullopt;
  return reference.substr(scheme.size());
}

bool skips_image_check(const FetchPolicy& policy) { return policy.insecure_options.count("image") > 0; }

/// What identifies a file's content without reading it again: a fetch verifies the signature,
/// then imports by reading the file once more, and the file must be the same one both times.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  struct timespec modified {};
  struct timespec changed {};

  static Result<FileIdentity> of(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Error::from_errno("fetch " + path);
    return FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  }
  bool operator==(const FileIdentity& other) const {
    return device == other.device && inode == other.inode && size == other.size &&
           modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec &&
           changed.tv_sec == other.changed.tv_sec && changed.tv_nsec == other.changed.tv_nsec;
  }
};

/// The signers of `signed_path` (its signature is `signed_path`.sig), or none when the user
/// skipped the check. Done before anything is read into the store.
Result<std::vector<trust::TrustedKey>> signers_of(const store::ImageStore& store,
                                                  const std::string& signed_path,
                                                  const FetchPolicy& policy) {
  if (skips_image_check(policy)) return std::vector<trust::TrustedKey>{};
  trust::TrustStore keys = PODRT_TRY(trust::TrustStore::open(store.layout().trust_dir()));
  return trust::verify_image_signature(keys, signed_path, signed_path + ".sig");
}

/// The import gate: one of the signers must be trusted for the image's name, and the signed
/// file must not have changed since its signature was checked (the import read it again).
store::ImportGate trusted_for_name(std::vector<trust::TrustedKey> signers, const std::string& signed_path,
                                   const FileIdentity& verified, const FetchPolicy& policy) {
  if (skips_image_check(policy)) return {};
  return [signers = std::move(signers), signed_path, verified](const appc::ImageManifest& manifest) -> Result<void> {
    PODRT_TRY(trust::check_trusted_for(signers, manifest.name));
    if (!(PODRT_TRY(FileIdentity::of(signed_path)) == verified))
      return Error::invalid(signed_path + " changed while it was fetched: its signature no longer covers it");
    return ok();
  };
}

Result<void> expect_regular_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Error::from_errno("fetch " + path);
  if (!S_ISREG(st.st_mode)) return Error::invalid("fetch " + path + ": not a regular file");
  return ok();
}

Result<store::ImageRecord> fetch_aci(store::ImageStore& store, const std::string& path,
                                     const FetchPolicy& policy) {
  PODRT_TRY(expect_regular_file(path));
  FileIdentity before = PODRT_TRY(FileIdentity::of(path));
  std::vector<trust::TrustedKey> signers = PODRT_TRY(signers_of(store, path, policy));
  return store.import_aci(path, policy.limits, trusted_for_name(std::move(signers), path, before, policy));
}

Result<store::ImageRecord> fetch_docker_archive(store::ImageStore& store, const std::string& path,
                                                const FetchPolicy& policy) {
  PODRT_TRY(expect_regular_file(path));
  FileIdentity before = PODRT_TRY(FileIdentity::of(path));
  std::vector<trust::TrustedKey> signers = PODRT_TRY(signers_of(store, path, policy));
  // Shared for the whole fetch: gc cannot take a layer the pull decided it need not copy.
  sys::FileLock store_lock = PODRT_TRY(store.lock(sys::FileLock::Mode::Shared));
  store::WorkDir work = PODRT_TRY(store.work_dir("fetch"));
  oci::FetchedImage fetched = PODRT_TRY_CONTEXT(
      oci::read_docker_archive(path, work.path(),
                               [&store](const std::string& digest) { return store.has_layer(digest); },
                               policy.limits.max_unpacked_bytes),
      "fetch docker-archive:" + path);
  return store.import_oci(fetched, policy.limits,
                          trusted_for_name(std::move(signers), path, before, policy));
}

Result<store::ImageRecord> fetch_oci_layout(store::ImageStore& store, const std::string& spec,
                                            const FetchPolicy& policy) {
  // PATH[:TAG]: a PATH that exists as it is wins over a TAG split off at its last ':'.
  std::string path = spec;
  std::string tag;
  struct stat st;
  if (::stat(spec.c_str(), &st) != 0) {
    size_t colon = spec.rfind(':');
    if (colon != std::string::npos && colon > 0) {
      path = spec.substr(0, colon);
      tag = spec.substr(colon + 1);
    }
  }
  if (::stat(path.c_str(), &st) != 0) return Error::from_errno("fetch oci-layout:" + path);
  if (!S_ISDIR(st.st_mode)) return Error::invalid("fetch oci-layout:" + path + ": not a directory");
  // The layout's index.json pins every manifest, config and layer by digest: its signature
  // (PATH.sig, beside the layout) covers the whole image.
  std::string index_path = path + "/index.json";
  FileIdentity before;
  std::vector<trust::TrustedKey> signers;
  if (!skips_image_check(policy)) {
    before = PODRT_TRY(FileIdentity::of(index_path));
    trust::TrustStore keys = PODRT_TRY(trust::TrustStore::open(store.layout().trust_dir()));
    signers = PODRT_TRY(trust::verify_image_signature(keys, index_path, path + ".sig"));
  }
  sys::FileLock store_lock = PODRT_TRY(store.lock(sys::FileLock::Mode::Shared));
  store::WorkDir work = PODRT_TRY(store.work_dir("fetch"));
  oci::FetchedImage fetched = PODRT_TRY_CONTEXT(
      oci::read_oci_layout(path, tag, work.path(),
                           [&store](const std::string& digest) { return store.has_layer(digest); }),
      "fetch oci-layout:" + spec);
  return store.import_oci(fetched, policy.limits,
                          trusted_for_name(std::move(signers), index_path, before, policy));
}

Result<store::ImageRecord> fetch_from_registry(store::ImageStore& store, const std::string& spec,
                                               const FetchPolicy& policy) {
  oci::RegistryReference reference =
      PODRT_TRY_CONTEXT(oci::parse_registry_reference(spec), "fetch docker://" + spec);
  // A registry serves no detached signatures: as in rkt, docker:// images are fetched only
  // when the user says they need not be verified.
  if (!skips_image_check(policy)) {
    return Error::invalid("fetch docker://" + spec +
                          ": registry images carry no signature podrt can verify; pass "
                          "--insecure-options=image to fetch it unverified");
  }
  oci::RegistryOptions options;
  options.allow_http = policy.insecure_options.count("http") > 0;
  options.max_blob_bytes = policy.limits.max_unpacked_bytes;
  sys::FileLock store_lock = PODRT_TRY(store.lock(sys::FileLock::Mode::Shared));
  store::WorkDir work = PODRT_TRY(store.work_dir("pull"));
  oci::FetchedImage fetched = PODRT_TRY_CONTEXT(
      oci::pull_from_registry(reference, options, work.path(),
                              [&store](const std::string& digest) { return store.has_layer(digest); }),
      "fetch docker://" + spec);
  return store.import_oci(fetched, policy.limits);
}

}  // namespace

bool is_fetchable_reference(const std::string& reference) {
  for (std::string_view scheme : {kFileScheme, kDockerArchiveScheme, kOciLayoutScheme, kRegistryScheme})
    if (reference.rfind(scheme, 0) == 0) return true;
  struct stat st;
  return reference.find("://") == std::string::npos && ::stat(reference.c_str(), &st) == 0;
}

Result<store::ImageRecord> fetch_image(store::ImageStore& store, const std::string& reference,
                                       const FetchPolicy& policy) {
  if (auto path = after_scheme(reference, kDockerArchiveScheme))
    return fetch_docker_archive(store, *path, policy);
  if (auto spec = after_scheme(reference, kOciLayoutScheme)) return fetch_oci_layout(store, *spec, policy);
  if (auto spec = after_scheme(reference, kRegistryScheme)) return fetch_from_registry(store, *spec, policy);
  if (auto path = after_scheme(reference, kFileScheme)) return fetch_aci(store, *path, policy);
  if (reference.find("://") != std::string::npos) {
    return Error::invalid("fetch " + reference +
                          ": unknown image source (use PATH, file://PATH, docker-archive:PATH, "
                          "oci-layout:PATH[:TAG] or docker://HOST/NAME[:TAG])");
  }
  return fetch_aci(store, reference, policy);
}

}  // namespace podrt::image
