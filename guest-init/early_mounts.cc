#include "guest-init/early_mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

namespace podrt::guest_init {
namespace {

struct EarlyMount {
  const char* type;
  const char* target;
  unsigned long flags;
  const char* options;
  mode_t mode;  // of the mount point, made if missing
};

constexpr unsigned long kNoExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// In order: each target lies on a filesystem mounted before it.
constexpr EarlyMount kEarlyMounts[] = {
    {"proc", "/proc", kNoExec, nullptr, 0555},
    {"sysfs", "/sys", kNoExec, nullptr, 0555},
    {"devtmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "mode=0755", 0755},
    {"devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5",
     0755},
    {"tmpfs", "/dev/shm", kNoExec, "mode=1777", 01777},
    {"cgroup2", "/sys/fs/cgroup", kNoExec, nullptr, 0555},
};

}  // namespace

Result<void> mount_early_filesystems() {
  for (const EarlyMount& mount : kEarlyMounts) {
    if (::mkdir(mount.target, mount.mode) != 0 && errno != EEXIST)
      return Error::from_errno(std::string("create ") + mount.target);
    if (::mount(mount.type, mount.target, mount.type, mount.flags, mount.options) != 0)
      return Error::from_errno(std::string("mount ") + mount.type + " on " + mount.target);
  }
  return ok();
}

}  // namespace podrt::guest_init
