#include "stage1-ns/rootfs/pod_root.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/sys/file.h"
#include "stage1-ns/rootfs/mounts.h"

namespace podrt::stage1::rootfs {

Result<void> enter_pod_root(const PodRoot& pod) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return Error::from_errno("make the pod's mounts private");
  PODRT_TRY(mount_filesystem("tmpfs", pod.path, MS_NOSUID | MS_NODEV, "mode=755"));
  for (const AppRootfs& app : pod.apps) PODRT_TRY(mount_app_rootfs(app));
  for (const BindSpec& bind : pod.binds) {
    std::string target = pod.path + bind.target;  // our own tmpfs: no image symlinks here
    PODRT_TRY(sys::make_directories(target, 0755));
    PODRT_TRY(bind_mount(bind.source, target, bind.read_only, bind.recursive));
  }
  // The supervisor opens /dev/null before it chroots an app.
  PODRT_TRY(sys::make_directories(pod.path + "/dev", 0755));
  { UniqueFd created = PODRT_TRY(sys::open_file(pod.path + "/dev/null", O_CREAT | O_WRONLY, 0666)); }
  PODRT_TRY(bind_mount("/dev/null", pod.path + "/dev/null", false, false));
  PODRT_TRY(sys::make_directories(pod.path + "/proc", 0555));
  PODRT_TRY(mount_filesystem("proc", pod.path + "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));

  // pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the pod
  // root alone, with no path back to the host's files (runc's trick, no temp directory).
  if (::chdir(pod.path.c_str()) != 0) return Error::from_errno("chdir " + pod.path);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Error::from_errno("pivot_root " + pod.path);
  if (::umount2(".", MNT_DETACH) != 0) return Error::from_errno("detach the host's root");
  if (::chdir("/") != 0) return Error::from_errno("chdir /");
  return ok();
}

}  // namespace podrt::stage1::rootfs
