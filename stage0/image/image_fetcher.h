// fetch_image: turns what a user names on the command line into an image in the store.
// Today that is an ACI file (PATH or file://PATH); registries and Docker/OCI sources and
// signature checks join here later.
#pragma once

#include <set>
#include <string>

#include "common/result.h"
#include "stage0/image/aci_unpacker.h"
#include "stage0/store/image_store.h"

namespace podrt::image {

/// What a fetch may and may not do.
struct FetchPolicy {
  std::set<std::string> insecure_options;  ///< rkt's names: "image", "http", ...
  UnpackLimits limits;
};

/// Imports the image a user named, or finds it already in the store.
Result<store::ImageRecord> fetch_image(store::ImageStore& store, const std::string& reference,
                                       const FetchPolicy& policy);

/// True when `reference` names a file to import rather than an image in the store.
bool is_file_reference(const std::string& reference);

}  // namespace podrt::image
