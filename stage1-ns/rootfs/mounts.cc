#include "stage1-ns/rootfs/mounts.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

namespace podrt::stage1::rootfs {

Result<void> mount_filesystem(const std::string& type, const std::string& target,
                              unsigned long flags, const std::string& options) {
  if (::mount(type.c_str(), target.c_str(), type.c_str(), flags,
              options.empty() ? nullptr : options.c_str()) != 0)
    return Error::from_errno("mount " + type + " on " + target);
  return ok();
}

Result<void> remount_read_only(const std::string& target) {
  // A read-only remount must repeat the mount's locked flags (nosuid, nodev, noexec), or the
  // kernel refuses it in a user namespace; statvfs tells which are set.
  struct statvfs st;
  if (::statvfs(target.c_str(), &st) != 0) return Error::from_errno("statvfs " + target);
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0)
    return Error::from_errno("remount " + target + " read-only");
  return ok();
}

Result<void> bind_mount(const std::string& source, const std::string& target, bool read_only,
                        bool recursive) {
  unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);
  if (::mount(source.c_str(), target.c_str(), nullptr, flags, nullptr) != 0)
    return Error::from_errno("bind " + source + " on " + target);
  if (read_only) PODRT_TRY(remount_read_only(target));
  return ok();
}

}  // namespace podrt::stage1::rootfs
