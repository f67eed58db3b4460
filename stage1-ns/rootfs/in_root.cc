#include "stage1-ns/rootfs/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace podrt::stage1::rootfs {
namespace {

Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
  if (fd < 0) return Error::from_errno("open " + path + " in the app's rootfs");
  return UniqueFd(fd);
}

}  // namespace

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

/// Images often carry dangling symlinks where a mount goes (/etc/resolv.conf ->
/// ../run/systemd/resolve/stub-resolv.conf): follow them by hand, inside the root, creating
/// what they point to. `depth` bounds symlink loops like the kernel's 40.
Result<UniqueFd> open_target(int root_fd, const std::string& path, TargetKind kind, int depth);

Result<UniqueFd> follow_dangling(int root_fd, int parent_fd, const std::string& walked,
                                 const std::string& component, const std::string& rest,
                                 TargetKind kind, int depth) {
  char link[4096];
  ssize_t length = ::readlinkat(parent_fd, component.c_str(), link, sizeof link - 1);
  if (length < 0) return Error::from_errno("open /" + walked + " in the app's rootfs");
  std::string target(link, static_cast<size_t>(length));
  std::string base = walked.substr(0, walked.size() - component.size());
  std::string next = target[0] == '/' ? target : "/" + base + target;
  if (!rest.empty()) next += "/" + rest;
  return open_target(root_fd, next, kind, depth + 1);
}

Result<UniqueFd> open_mount_target(int root_fd, const std::string& path, TargetKind kind) {
  return open_target(root_fd, path, kind, 0);
}

Result<UniqueFd> open_target(int root_fd, const std::string& path, TargetKind kind, int depth) {
  if (depth > 40) return Error::invalid("mount target " + path + ": too many levels of symlinks");
  if (path.empty() || path[0] != '/') return Error::invalid("mount target " + path + " is not absolute");
  std::string relative = path.substr(1);
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  if (relative.empty()) return open_in_root(root_fd, ".", O_PATH | O_DIRECTORY);

  auto existing = open_in_root(root_fd, relative, O_PATH);
  if (existing) return existing;
  if (existing.error().code() != ENOENT) return existing;

  // Walk down, making what is missing; each mkdirat/openat names one plain component inside a
  // directory that was itself resolved in the root, so nothing is created outside it.
  UniqueFd parent = PODRT_TRY(open_in_root(root_fd, ".", O_PATH | O_DIRECTORY));
  std::string walked;
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    std::string component = relative.substr(start, end - start);
    bool last = end == relative.size();
    walked += (walked.empty() ? "" : "/") + component;
    start = end + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") {  // only from a symlink's text: step back up, inside the root
      size_t slash = walked.rfind('/', walked.size() - 4);
      walked = slash == std::string::npos ? "" : walked.substr(0, slash);
      parent = PODRT_TRY(open_in_root(root_fd, walked.empty() ? "." : walked, O_PATH | O_DIRECTORY));
      continue;
    }
    auto next = open_in_root(root_fd, walked, O_PATH);
    if (!next) {
      if (next.error().code() != ENOENT) return std::move(next).error();
      if (last && kind == TargetKind::File) {
        int fd = ::openat(parent.get(), component.c_str(),
                          O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) return Error::from_errno("create mount target " + path);
        if (fd >= 0) ::close(fd);
      } else if (::mkdirat(parent.get(), component.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error::from_errno("create mount target " + path);
      }
      next = open_in_root(root_fd, walked, O_PATH);
      if (!next && next.error().code() == ENOENT)  // a dangling symlink is in the way
        return follow_dangling(root_fd, parent.get(), walked, component,
                               last ? "" : relative.substr(start), kind, depth);
      if (!next) return std::move(next).error();
    }
    parent = std::move(*next);
  }
  return parent;
}

}  // namespace podrt::stage1::rootfs
