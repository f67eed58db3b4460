#include "stage1-ns/rootfs/app_rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sys/file.h"
#include "stage1-ns/rootfs/idmapped_mount.h"
#include "stage1-ns/rootfs/in_root.h"
#include "stage1-ns/rootfs/mounts.h"

namespace podrt::stage1::rootfs {
namespace {

/// overlayfs options separate layers with ':' and options with ','; escape both in paths.
std::string overlay_escape(const std::string& path) {
  std::string escaped;
  for (char c : path) {
    if (c == ':' || c == ',' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

struct Root {
  std::string path;
  UniqueFd fd;
};

Result<void> bind_into(const Root& root, const BindSpec& bind) {
  struct stat st;
  if (::stat(bind.source.c_str(), &st) != 0) return Error::from_errno("volume source " + bind.source);
  TargetKind kind = S_ISDIR(st.st_mode) ? TargetKind::Directory : TargetKind::File;
  UniqueFd target = PODRT_TRY(open_mount_target(root.fd.get(), bind.target, kind));
  PODRT_TRY_CONTEXT(bind_mount(bind.source, fd_path(target.get()), false, bind.recursive),
                    "mount " + bind.target);
  if (!bind.read_only) return ok();
  // The fd names the directory under the new mount; resolve again to reach the mount itself.
  UniqueFd mounted = PODRT_TRY(open_mount_target(root.fd.get(), bind.target, kind));
  return remount_read_only(fd_path(mounted.get()));
}

Result<UniqueFd> target(const Root& root, const std::string& path, TargetKind kind) {
  return open_mount_target(root.fd.get(), path, kind);
}

/// Mounts a filesystem on `path` inside the root and returns an fd on the mounted root. Later
/// steps name things below it through that fd ("/proc/self/fd/N/..."), never through the
/// image's path again, which could be a symlink leading out of the rootfs.
Result<UniqueFd> mount_in_root(const Root& root, const std::string& path, const std::string& type,
                               unsigned long flags, const std::string& options = "") {
  UniqueFd mount_point = PODRT_TRY(target(root, path, TargetKind::Directory));
  PODRT_TRY_CONTEXT(mount_filesystem(type, fd_path(mount_point.get()), flags, options),
                    "app path " + path);
  return target(root, path, TargetKind::Directory);
}

/// A tmpfs /dev with the usual nodes bound from the host, a private devpts and /dev/shm.
Result<void> mount_dev(const Root& root, const AppRootfs& app) {
  // In a user namespace, /dev belongs to the pod's root and new ptys to its tty group (5).
  std::string owner, tty_group = "5";
  if (app.root_id != 0) {
    owner = ",uid=" + std::to_string(app.root_id) + ",gid=" + std::to_string(app.root_id);
    tty_group = std::to_string(app.root_id + 5);
  }
  UniqueFd dev = PODRT_TRY(mount_in_root(root, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
                                         "mode=755,size=65536k" + owner));
  std::string dev_dir = fd_path(dev.get());
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string node_path = dev_dir + "/" + node;
    UniqueFd created = PODRT_TRY(sys::open_file(node_path, O_CREAT | O_WRONLY | O_EXCL, 0666));
    PODRT_TRY(bind_mount(std::string("/dev/") + node, node_path, false, false));
  }
  PODRT_TRY(sys::make_directories(dev_dir + "/pts", 0755));
  PODRT_TRY(mount_filesystem("devpts", dev_dir + "/pts", MS_NOSUID | MS_NOEXEC,
                             "newinstance,ptmxmode=0666,mode=620,gid=" + tty_group));
  PODRT_TRY(sys::make_directories(dev_dir + "/shm", 01777));
  PODRT_TRY(mount_filesystem("tmpfs", dev_dir + "/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             "mode=1777,size=65536k" + owner));
  if (::chmod((dev_dir + "/shm").c_str(), 01777) != 0) return Error::from_errno("chmod /dev/shm");
  const std::pair<const char*, const char*> links[] = {
      {"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (const auto& [to, name] : links)
    if (::symlink(to, (dev_dir + "/" + name).c_str()) != 0)
      return Error::from_errno(std::string("symlink /dev/") + name);
  if (!app.terminal.empty()) {
    UniqueFd console = PODRT_TRY(sys::open_file(dev_dir + "/console", O_CREAT | O_WRONLY, 0600));
    PODRT_TRY(bind_mount(app.terminal, dev_dir + "/console", false, false));
  }
  return ok();
}

/// rkt's protected paths (stage1/init/common/app.go): secrets in /proc and /sys hidden (both
/// are mounted read-only already).
Result<void> harden(int proc_fd, int sys_fd) {
  for (const char* hidden : {"kcore", "kallsyms", "sched_debug", "kmem", "mem", "config.gz",
                             "timer_list"}) {
    std::string path = fd_path(proc_fd) + "/" + hidden;
    if (sys::path_exists(path)) PODRT_TRY(bind_mount("/dev/null", path, false, false));
  }
  for (const char* hidden : {"firmware", "fs/cgroup", "kernel/security"}) {
    std::string path = fd_path(sys_fd) + "/" + hidden;
    if (sys::path_exists(path))
      PODRT_TRY(mount_filesystem("tmpfs", path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                 "size=0"));
  }
  return ok();
}

}  // namespace

Result<void> mount_app_rootfs(const AppRootfs& app) {
  PODRT_TRY(sys::make_directories(app.path, 0755));
  std::string lower = app.lower;
  if (app.userns_fd >= 0) {
    // The idmapped view needs a path for the overlay's lowerdir; once mounted, the overlay
    // holds its own reference to the layer and the path goes away again.
    lower = app.path + ".lower";
    PODRT_TRY(sys::make_directories(lower, 0755));
    PODRT_TRY(mount_idmapped(app.lower, lower, app.userns_fd));
  }
  std::string options = "lowerdir=" + overlay_escape(lower) +
                        ",upperdir=" + overlay_escape(app.upper) +
                        ",workdir=" + overlay_escape(app.work);
  PODRT_TRY(mount_filesystem("overlay", app.path, 0, options));
  if (lower != app.lower) {
    if (::umount2(lower.c_str(), MNT_DETACH) != 0) return Error::from_errno("unmount " + lower);
    if (::rmdir(lower.c_str()) != 0) return Error::from_errno("remove " + lower);
  }

  Root root{app.path, PODRT_TRY(sys::open_file(app.path, O_PATH | O_DIRECTORY))};
  constexpr unsigned long kReadOnlyKernelFs = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  UniqueFd proc = PODRT_TRY(mount_in_root(root, "/proc", "proc", kReadOnlyKernelFs));
  UniqueFd sys_dir = PODRT_TRY(mount_in_root(root, "/sys", "sysfs", kReadOnlyKernelFs));
  PODRT_TRY(mount_dev(root, app));
  if (app.harden_paths) PODRT_TRY(harden(proc.get(), sys_dir.get()));
  for (const BindSpec& bind : app.binds) PODRT_TRY(bind_into(root, bind));
  if (app.read_only) PODRT_TRY(remount_read_only(app.path));
  return ok();
}

}  // namespace podrt::stage1::rootfs
