// The read-only disk a kvm pod's app boots its root filesystem from: an erofs image of the
// image's render (mkfs.erofs from erofs-utils), made once per image id beside the render
// (cas/tree/<id>/rootfs.erofs) and shared by every pod of that image.
#pragma once

#include <string>

#include "common/result.h"

namespace podrt::stage1_kvm {

/// Returns `render`.erofs, making it first if needed (under a lock, temporary name, rename:
/// concurrent pods and a kill -9 never see half an image).
Result<std::string> ensure_rootfs_disk(const std::string& render);

}  // namespace podrt::stage1_kvm
