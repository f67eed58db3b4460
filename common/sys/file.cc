#include "common/sys/file.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>

namespace podrt::sys {

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Error::from_errno("open " + path);
  return UniqueFd(fd);
}

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd = PODRT_TRY(open_file(path, O_RDONLY));
  std::string content;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("read " + path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

Result<void> write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode,
                               Sync sync) {
  std::random_device random;
  std::string temporary = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(random());
  {
    UniqueFd fd = PODRT_TRY(open_file(temporary, O_WRONLY | O_CREAT | O_EXCL, mode));
    auto written = write_all(fd.get(), content, temporary);
    if (written && sync == Sync::Yes && ::fsync(fd.get()) != 0)
      written = Error::from_errno("fsync " + temporary);
    if (!written) {
      ::unlink(temporary.c_str());
      return written;
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    Error error = Error::from_errno("rename " + temporary + " to " + path);
    ::unlink(temporary.c_str());
    return error;
  }
  return ok();
}

Result<void> make_directories(const std::string& path, mode_t mode) {
  // Each missing component is created with `mode`; existing ones are left as they are.
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      return Error::from_errno("create directory " + prefix);
    if (slash == std::string::npos) break;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Error::from_errno("create directory " + path);
  if (!S_ISDIR(st.st_mode)) return Error::with_code(ENOTDIR, "create directory " + path);
  return ok();
}

Result<void> remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec && ec.value() != ENOENT) return Error::with_code(ec.value(), "remove " + path);
  return ok();
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<void> sync_directory(const std::string& path) {
  UniqueFd fd = PODRT_TRY(open_file(path, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return Error::from_errno("fsync " + path);
  return ok();
}

namespace {
thread_local uint64_t g_tree_size = 0;
int add_size(const char*, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_F && S_ISREG(st->st_mode)) g_tree_size += static_cast<uint64_t>(st->st_size);
  return 0;
}
}  // namespace

Result<uint64_t> tree_size(const std::string& path) {
  g_tree_size = 0;
  if (::nftw(path.c_str(), add_size, 64, FTW_PHYS) != 0) return Error::from_errno("walk " + path);
  return g_tree_size;
}

std::string own_directory() {
  char self[4096];
  ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return "";
  std::string path(self, static_cast<size_t>(length));
  return path.substr(0, path.rfind('/'));
}

}  // namespace podrt::sys
