#include "stage1-ns/rootfs/idmapped_mount.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "common/unique_fd.h"

namespace podrt::stage1::rootfs {

Result<void> mount_idmapped(const std::string& source, const std::string& target, int userns_fd) {
  // A detached clone: only a mount that was never attached may be idmapped.
  UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return Error::from_errno("open_tree " + source);
  mount_attr attr{};
  // Read-only too: the pod must never write to the shared render through this view.
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return Error::from_errno("idmap a mount of " + source +
                             " (its filesystem must support idmapped mounts)");
  if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return Error::from_errno("attach the idmapped " + source + " on " + target);
  return ok();
}

}  // namespace podrt::stage1::rootfs
