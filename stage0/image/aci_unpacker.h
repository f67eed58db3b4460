// unpack_aci: the single-pass, confined importer of ACI image archives (appc spec, aci.md).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace podrt::image {

/// Bounds on what one ACI may make us do.
struct UnpackLimits {
  uint64_t max_unpacked_bytes = 16ULL << 30;  ///< uncompressed tar size
  uint64_t max_entries = 2'000'000;           ///< tar entries
  uint64_t max_manifest_bytes = 1 << 20;      ///< size of the `manifest` file
};

/// Where the unpacked image goes.
struct UnpackTargets {
  std::string blob_path;   ///< where the uncompressed tar is written (created O_EXCL), or empty: don't keep it
  std::string rootfs_dir;  ///< an existing empty directory that receives the contents of rootfs/, or empty: don't extract
};

/// What unpacking found.
struct UnpackedAci {
  std::string image_id;  ///< "sha512-<128 hex>" of the uncompressed tar
  std::string manifest_json;
  uint64_t uncompressed_size = 0;
};

/// Reads the ACI at source_path ONCE: libarchive decompresses (none/gzip/bzip2/xz/zstd,
/// auto-detected), the uncompressed tar bytes are hashed (image id) and tee'd into blob_path, and
/// the same bytes are parsed as tar and extracted into rootfs_dir.
/// Only `manifest` (a regular file) and `rootfs/...` are accepted at the top level; absolute
/// paths, `..`, device nodes, hardlinks leaving rootfs/ and writes through symlinks are errors.
/// Nothing is ever written outside rootfs_dir (and blob_path). Nothing is fsynced.
/// On error, targets may hold partial output: the caller (the store, working in a temporary dir)
/// removes them.
Result<UnpackedAci> unpack_aci(const std::string& source_path, const UnpackTargets& targets,
                               const UnpackLimits& limits);

}  // namespace podrt::image
