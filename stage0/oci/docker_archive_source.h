// docker-archive:PATH: an image read from the tarball `docker save` or
// `skopeo copy ... docker-archive:FILE` writes (manifest.json, the config, one tar per layer).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "stage0/oci/fetched_image.h"

namespace podrt::oci {

/// Cap on manifest.json and the config inside an archive: documents, not data.
inline constexpr uint64_t kMaxArchiveDocumentBytes = 4ull << 20;
/// Cap on the regular files in one archive (each becomes a work file while it is read).
inline constexpr uint64_t kMaxArchiveMembers = 10000;

/// Reads the archive once, copying each regular member into work_dir under a private name while
/// hashing it, then checks manifest.json (exactly one image), the config and that every layer's
/// sha256 is the config's matching rootfs.diff_ids entry. Members with absolute or ".." paths are
/// refused; symlinks and hardlinks between members (docker save links repeated layers) resolve
/// inside the archive only. Layers `have_layer` knows get path "" and their copy is removed, as
/// is every member that is not a layer. More than `max_bytes` member bytes in all fail.
Result<FetchedImage> read_docker_archive(const std::string& archive_path, const std::string& work_dir,
                                         const LayerLookup& have_layer, uint64_t max_bytes);

}  // namespace podrt::oci
