// openat2-based confinement (Linux 5.6+).
#include "stage0/image/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace podrt::image {
namespace {

constexpr uint64_t kResolveConfined = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int raw_openat2(int dir_fd, const char* path, int flags, mode_t mode) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = kResolveConfined;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
    // EAGAIN: a concurrent rename or mount raced the lookup; retry a few times.
    if (fd < 0 && (errno == EINTR || (errno == EAGAIN && attempt < 16))) continue;
    return static_cast<int>(fd);
  }
}

Error resolve_error(int dir_fd, int code, std::string_view path) {
  std::string where(path.empty() ? "." : path);
  if (code == ENOTDIR) {
    // O_DIRECTORY reports a trailing symlink as ENOTDIR: tell the two apart.
    int fd = raw_openat2(dir_fd, where.c_str(), O_PATH | O_NOFOLLOW, 0);
    if (fd < 0) {
      code = errno == ELOOP ? ELOOP : ENOTDIR;
    } else {
      struct stat st;
      if (::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) code = ELOOP;
      ::close(fd);
    }
  }
  switch (code) {
    case ENOTDIR:
      return Error::with_code(ENOTDIR, "path " + where + " is not a directory");
    case ELOOP:
      return Error::with_code(ELOOP, "path " + where + " goes through a symlink (refused)");
    case EXDEV:
      return Error::with_code(EXDEV, "path " + where + " escapes the image root");
    case ENOSYS:
      return Error::with_code(ENOSYS, "openat2 (Linux 5.6 or later is needed)");
    default:
      return Error::with_code(code, "open " + where);
  }
}

}  // namespace

Result<UniqueFd> open_beneath(int root_fd, const std::string& path, int flags, mode_t mode) {
  int fd = raw_openat2(root_fd, path.empty() ? "." : path.c_str(), flags, mode);
  if (fd < 0) return resolve_error(root_fd, errno, path);
  return UniqueFd(fd);
}

Result<UniqueFd> open_directory_beneath(int root_fd, std::string_view path, bool create_missing) {
  constexpr int kFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW;
  std::string whole(path);
  int fd = raw_openat2(root_fd, whole.empty() ? "." : whole.c_str(), kFlags, 0);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT || !create_missing) return resolve_error(root_fd, errno, path);

  // Walk from the root, one component at a time, making what is missing.
  UniqueFd current;
  size_t start = 0;
  while (start < whole.size()) {
    size_t slash = whole.find('/', start);
    if (slash == std::string::npos) slash = whole.size();
    std::string component = whole.substr(start, slash - start);
    int dir_fd = current ? current.get() : root_fd;
    for (int attempt = 0;; ++attempt) {
      fd = raw_openat2(dir_fd, component.c_str(), kFlags, 0);
      if (fd >= 0 || errno != ENOENT || attempt == 2) break;
      if (::mkdirat(dir_fd, component.c_str(), 0755) != 0 && errno != EEXIST)
        return Error::from_errno("create directory " + whole.substr(0, slash));
    }
    if (fd < 0) return resolve_error(root_fd, errno, std::string_view(whole).substr(0, slash));
    current.reset(fd);
    start = slash + 1;
  }
  return current;
}

Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  size_t first = path.find_first_not_of('/');
  std::string relative = first == std::string::npos ? "." : path.substr(first);
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
  if (fd < 0) return Error::from_errno("open " + path + " in the image");
  return UniqueFd(fd);
}

bool regular_file_in_root(int root_fd, const std::string& path) {
  auto opened = open_in_root(root_fd, path, O_PATH);
  if (!opened) return false;
  struct stat st;
  return ::fstat(opened->get(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<std::string> read_small_file_in_root(int root_fd, const std::string& path) {
  // Non-blocking and regular only: a FIFO planted at /etc/passwd must not hang the import.
  auto opened = open_in_root(root_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!opened) return std::nullopt;
  struct stat st;
  if (::fstat(opened->get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(opened->get(), buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) return std::nullopt;  // not a passwd file anyone writes
  }
  return text;
}

}  // namespace podrt::image
