#include "stage0/image/tree_merge.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "common/sys/file.h"

namespace podrt::image {
namespace {

namespace fs = std::filesystem;

Result<void> copy_file_contents(const std::string& source, const std::string& target,
                                const struct stat& st) {
  UniqueFd in = PODRT_TRY(sys::open_file(source, O_RDONLY | O_NOFOLLOW));
  UniqueFd out = PODRT_TRY(sys::open_file(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                                          st.st_mode & 07777));
  off_t remaining = st.st_size;
  while (remaining > 0) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr,
                                  static_cast<size_t>(remaining), 0);
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
      n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(remaining));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("copy " + source + " to " + target);
    }
    if (n == 0) break;
    remaining -= n;
  }
  return ok();
}

Result<void> apply_metadata(const std::string& target, const struct stat& st) {
  if (::lchown(target.c_str(), st.st_uid, st.st_gid) != 0 && errno != EPERM)
    return Error::from_errno("chown " + target);
  if (!S_ISLNK(st.st_mode) && ::chmod(target.c_str(), st.st_mode & 07777) != 0)
    return Error::from_errno("chmod " + target);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, target.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno("set times of " + target);
  return ok();
}

/// Removes whatever sits at `target` unless it is a real directory and `keep_directory` is set.
Result<void> clear_path(const std::string& target, bool keep_directory) {
  struct stat existing;
  if (::lstat(target.c_str(), &existing) != 0) {
    if (errno == ENOENT) return ok();
    return Error::from_errno("stat " + target);
  }
  if (S_ISDIR(existing.st_mode)) {
    if (keep_directory) return ok();
    return sys::remove_tree(target);
  }
  if (::unlink(target.c_str()) != 0) return Error::from_errno("remove " + target);
  return ok();
}

struct PendingDirectory {
  std::string path;
  struct stat st;
};

Result<void> merge_entry(const std::string& source, const std::string& target,
                         FileTransfer transfer, std::vector<PendingDirectory>& directories) {
  struct stat st;
  if (::lstat(source.c_str(), &st) != 0) return Error::from_errno("stat " + source);

  if (S_ISDIR(st.st_mode)) {
    PODRT_TRY(clear_path(target, /*keep_directory=*/true));
    if (::mkdir(target.c_str(), 0700) != 0 && errno != EEXIST)
      return Error::from_errno("mkdir " + target);
    std::error_code ec;
    for (const fs::directory_entry& child : fs::directory_iterator(source, ec)) {
      std::string name = child.path().filename();
      PODRT_TRY(merge_entry(source + "/" + name, target + "/" + name, transfer, directories));
    }
    if (ec) return Error::with_code(ec.value(), "list " + source);
    // Mode and times after the contents, so a read-only directory can still be filled.
    directories.push_back({target, st});
    return ok();
  }

  PODRT_TRY(clear_path(target, /*keep_directory=*/false));
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> link_target(static_cast<size_t>(st.st_size) + 1);
    ssize_t n = ::readlink(source.c_str(), link_target.data(), link_target.size());
    if (n < 0) return Error::from_errno("readlink " + source);
    std::string text(link_target.data(), static_cast<size_t>(n));
    if (::symlink(text.c_str(), target.c_str()) != 0) return Error::from_errno("symlink " + target);
    return apply_metadata(target, st);
  }
  if (S_ISREG(st.st_mode)) {
    if (transfer == FileTransfer::HardLink) {
      if (::link(source.c_str(), target.c_str()) == 0) return ok();
      if (errno != EXDEV && errno != EMLINK && errno != EPERM)
        return Error::from_errno("link " + target);
    }
    PODRT_TRY(copy_file_contents(source, target, st));
    return apply_metadata(target, st);
  }
  if (S_ISFIFO(st.st_mode)) {
    if (::mkfifo(target.c_str(), st.st_mode & 07777) != 0) return Error::from_errno("mkfifo " + target);
    return apply_metadata(target, st);
  }
  // Device nodes and sockets never enter the store (the unpacker refuses them); skip quietly.
  return ok();
}

}  // namespace

Result<void> merge_tree(const std::string& source_dir, const std::string& target_dir,
                        FileTransfer transfer) {
  std::vector<PendingDirectory> directories;
  PODRT_TRY(merge_entry(source_dir, target_dir, transfer, directories));
  // A directory is recorded after its subdirectories: deepest first, so that setting a
  // parent's mtime is the last touch it gets.
  for (const PendingDirectory& directory : directories)
    PODRT_TRY(apply_metadata(directory.path, directory.st));
  return ok();
}

}  // namespace podrt::image
