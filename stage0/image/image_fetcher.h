// fetch_image: turns what a user names on the command line into an image in the store:
// an ACI file (PATH or file://PATH), docker-archive:PATH, oci-layout:PATH[:TAG] or
// docker://HOST[:PORT]/NAME[:TAG|@DIGEST]. Signatures are checked here (rkt's trust model).
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

/// True when `reference` names an image to fetch (a file, a directory or a registry) rather
/// than an image already in the store (an id or name[:version]).
bool is_fetchable_reference(const std::string& reference);

}  // namespace podrt::image
