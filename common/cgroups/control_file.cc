#include "common/cgroups/control_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "common/sys/file.h"
#include "common/unique_fd.h"

namespace podrt::cgroups {

Result<void> write_control(const std::string& directory, std::string_view file,
                           std::string_view value) {
  std::string path = directory + "/" + std::string(file);
  std::string what = "write " + std::string(value) + " to " + path;
  // O_TRUNC is accepted by cgroupfs and makes fake trees in tests hold exactly the last write.
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Error::from_errno(what);
  UniqueFd owned(fd);
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::from_errno(what);
  if (static_cast<size_t>(n) != value.size()) return Error::with_code(EIO, what + " (short write)");
  return ok();
}

Result<std::string> read_control(const std::string& directory, std::string_view file) {
  return sys::read_file(directory + "/" + std::string(file));
}

bool has_control(const std::string& directory, std::string_view file) {
  return ::access((directory + "/" + std::string(file)).c_str(), F_OK) == 0;
}

bool is_unified_directory(const std::string& directory) {
  return has_control(directory, "cgroup.controllers");
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    words.emplace_back(text.substr(start, end - start));
    i = end;
  }
  return words;
}

Result<uint64_t> keyed_value(std::string_view text, std::string_view key, const std::string& file) {
  std::vector<std::string> words = split_words(text);
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != key) continue;
    const std::string& number = words[i + 1];
    uint64_t value = 0;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (error != std::errc() || end != number.data() + number.size())
      return Error::invalid("read " + file + ": " + std::string(key) + " is not a number: " +
                            number);
    return value;
  }
  return uint64_t{0};
}

static Result<void> collect(const std::string& directory, std::vector<std::string>& out) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return ok();  // removed meanwhile
    return Error::from_errno("list cgroup " + directory);
  }
  std::vector<std::string> children;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    // Control files are regular files; every directory is a child cgroup.
    if (entry->d_type == DT_DIR) {
      children.push_back(directory + "/" + std::string(name));
    } else if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      std::string path = directory + "/" + std::string(name);
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) children.push_back(path);
    }
  }
  int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) return Error::with_code(read_errno, "list cgroup " + directory);
  for (const std::string& child : children) PODRT_TRY(collect(child, out));
  out.push_back(directory);
  return ok();
}

Result<std::vector<std::string>> descendants_deepest_first(const std::string& directory) {
  std::vector<std::string> out;
  PODRT_TRY(collect(directory, out));
  return out;
}

}  // namespace podrt::cgroups
