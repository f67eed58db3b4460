// AciWriter: builds ACI archives byte by byte for tests, hostile ones included (entries that
// actool would never write: ../ paths, device nodes, links out of the root, bombs).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace podrt::testing {

enum class Compression { None, Gzip, Bzip2, Xz, Zstd };

struct AciEntry {
  enum class Kind { File, Directory, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };
  std::string path;          ///< as written in the tar, e.g. "rootfs/bin/sh"
  Kind kind = Kind::File;
  std::string content;       ///< file data
  std::string link_target;   ///< symlink text or hardlink target path
  mode_t mode = 0644;
  uint64_t zero_bytes = 0;   ///< extra zero bytes appended to `content` (for bombs)
};

/// A minimal valid image manifest for `name`.
std::string minimal_manifest(const std::string& name = "example.com/test",
                             const std::string& exec = "/bin/true");

/// Writes `entries` as a tar (pax) archive to `path` with `compression`.
Result<void> write_aci(const std::string& path, const std::vector<AciEntry>& entries,
                       Compression compression = Compression::None);

/// The manifest entry followed by a "rootfs" directory entry: the start of every good ACI.
std::vector<AciEntry> aci_skeleton(const std::string& manifest = minimal_manifest());

/// aci_skeleton(manifest) followed by `rest`.
std::vector<AciEntry> aci_with(std::vector<AciEntry> rest,
                               const std::string& manifest = minimal_manifest());

}  // namespace podrt::testing
