// oci-layout:PATH[:TAG]: an image read from an OCI image layout directory (image-layout.md),
// the kind `umoci`, `skopeo copy ... oci:DIR:TAG` and `docker buildx --output type=oci` write.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "stage0/oci/fetched_image.h"

namespace podrt::oci {

/// Cap on index.json, manifests and configs: documents, not data.
inline constexpr uint64_t kMaxLayoutDocumentBytes = 4ull << 20;

/// Reads the image tagged `tag` (the org.opencontainers.image.ref.name annotation of an
/// index.json entry; "" when the index holds exactly one image) from the layout at `layout_dir`.
/// Nested indexes are followed to their linux/amd64 image. Every blob is opened without following
/// symlinks anywhere below the layout, must be a regular file and is verified against its
/// descriptor's size and digest. Layers `have_layer` knows are not read (path ""); the others are
/// copied to work_dir/<digest_file_name>. On failure the copies made are removed again.
Result<FetchedImage> read_oci_layout(const std::string& layout_dir, const std::string& tag,
                                     const std::string& work_dir, const LayerLookup& have_layer);

}  // namespace podrt::oci
