// apply_layer: one OCI/Docker layer (a tar, plain, gzip or zstd) applied on top of a root
// filesystem, with the image-spec's whiteouts (layer.md), confined to the root like ACI import.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "stage0/image/aci_unpacker.h"

namespace podrt::oci {

/// What applying one layer did.
struct LayerApplyStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  ///< uncompressed tar bytes read (to the end-of-archive blocks)
};

/// Applies the layer blob at `blob_path` on `rootfs_dir`: entries replace what lower layers
/// left (a directory over a directory keeps the lower contents), `.wh.NAME` removes NAME of the
/// lower layers and `.wh..wh..opq` every lower entry of its directory; whiteout files never
/// appear in the rootfs. Device nodes and sockets are skipped (pods get their own /dev).
/// `../`, absolute paths and anything through a symlink are refused; `limits` bound the
/// uncompressed size and the entry count. With a non-empty `progress_label` a progress bar
/// shows the compressed bytes read (only on a terminal).
Result<LayerApplyStats> apply_layer(const std::string& blob_path, const std::string& rootfs_dir,
                                    const image::UnpackLimits& limits,
                                    const std::string& progress_label);

}  // namespace podrt::oci
