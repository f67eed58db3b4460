#include "stage0/image/image_fetcher.h"

#include <sys/stat.h>

#include "common/log.h"

namespace podrt::image {
namespace {

constexpr std::string_view kFileScheme = "file://";

}  // namespace

bool is_file_reference(const std::string& reference) {
  if (reference.rfind(kFileScheme, 0) == 0) return true;
  struct stat st;
  return reference.find("://") == std::string::npos && ::stat(reference.c_str(), &st) == 0;
}

Result<store::ImageRecord> fetch_image(store::ImageStore& store, const std::string& reference,
                                       const FetchPolicy& policy) {
  if (reference.find("://") != std::string::npos && reference.rfind(kFileScheme, 0) != 0)
    return Error::invalid("fetch " + reference + ": only ACI files (PATH or file://PATH) can be fetched so far");
  std::string path = reference.rfind(kFileScheme, 0) == 0 ? reference.substr(kFileScheme.size()) : reference;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Error::from_errno("fetch " + path);
  if (!S_ISREG(st.st_mode)) return Error::invalid("fetch " + path + ": not a regular file");
  if (!policy.insecure_options.count("image")) {
    // Signature verification arrives with `podrt trust`; until then say plainly that the
    // image was not verified instead of pretending it was.
    log::warning("image signatures are not verified yet: " + path +
                 " was imported unverified (pass --insecure-options=image to silence this)");
  }
  return store.import_aci(path, policy.limits);
}

}  // namespace podrt::image
