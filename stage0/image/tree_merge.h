// merge_tree: lays one rendered tree over another, the appc way (ace.md "Filesystem Setup"):
// a path already present is overwritten, and a symlink in the way is replaced, never followed.
#pragma once

#include <string>

#include "common/result.h"

namespace podrt::image {

/// How regular files reach the target.
enum class FileTransfer {
  HardLink,  ///< share the inode (renders in the store are read-only lower layers); copy across devices
  Copy,      ///< an independent copy, for trees handed to the user
};

/// Copies every entry of `source_dir` into `target_dir` (which must exist), keeping modes,
/// owners and times. Symlinks are recreated, never followed.
Result<void> merge_tree(const std::string& source_dir, const std::string& target_dir,
                        FileTransfer transfer);

}  // namespace podrt::image
