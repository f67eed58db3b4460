#include "stage1-ns/network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/scope_exit.h"
#include "common/sys/file.h"

namespace podrt::stage1::network {
namespace {

/// Makes kNetnsDir a shared mount point, as iproute2 does for /run/netns: the namespace mounts
/// then propagate to mount namespaces made later (a pod's), and so does their unmount, so no
/// copy left in another mount namespace keeps a torn-down namespace alive.
Result<void> make_netns_dir_shared() {
  PODRT_TRY(sys::make_directories(kNetnsDir));
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return ok();
  if (errno != EINVAL) return Error::from_errno(std::string("make ") + kNetnsDir + " shared");
  // EINVAL: not a mount point yet; bind it onto itself first.
  if (::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0)
    return Error::from_errno(std::string("bind-mount ") + kNetnsDir + " onto itself");
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0)
    return Error::from_errno(std::string("make ") + kNetnsDir + " shared");
  return ok();
}

}  // namespace

std::string netns_path_for(const std::string& pod_uuid) {
  return std::string(kNetnsDir) + "/" + pod_uuid;
}

Result<void> create_netns(const std::string& path) {
  PODRT_TRY(make_netns_dir_shared());
  {
    auto file = sys::open_file(path, O_RDONLY | O_CREAT | O_EXCL, 0);
    if (!file) return std::move(file).error().with_context("create network namespace");
  }
  ScopeExit remove_file([&] { ::unlink(path.c_str()); });

  // A child unshares its network namespace and binds it onto the file; the namespace then
  // lives on in the mount after the child exits. Our own namespace is left untouched.
  pid_t child = ::fork();
  if (child < 0) return Error::from_errno("fork to create network namespace " + path);
  if (child == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(errno);
    if (::mount("/proc/self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) ::_exit(errno);
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return Error::from_errno("wait for the network namespace creator");
  }
  if (!WIFEXITED(status)) return Error::invalid("create network namespace " + path + ": child died");
  if (int code = WEXITSTATUS(status); code != 0)
    return Error::with_code(code, "create network namespace " + path);
  remove_file.dismiss();
  return ok();
}

Result<void> remove_netns(const std::string& path) {
  // EINVAL: not a mount point (a half-made namespace); ENOENT: already gone.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return Error::from_errno("unmount network namespace " + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error::from_errno("remove network namespace " + path);
  return ok();
}

}  // namespace podrt::stage1::network
