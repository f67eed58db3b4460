// Creating rootfs entries confined to the root: parents through openat2, last components with *at().
#include "stage0/image/rootfs_writer.h"

#include <archive.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "stage0/image/archive_stream.h"
#include "stage0/image/beneath.h"

namespace podrt::image {
namespace {

size_t depth_of(const std::string& path) {
  return path.empty() ? 0 : 1 + static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

/// Files at least this big get their writeback started as soon as they are written.
constexpr int64_t kEarlyWritebackBytes = 256 * 1024;

Result<void> pwrite_all(int fd, const char* data, size_t size, int64_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("write");
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return ok();
}

/// The names in the directory `dir_fd` (without "." and ".."), read through a duplicate so the
/// caller's fd stays usable.
Result<std::vector<std::string>> list_children(int dir_fd) {
  int listing_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return Error::from_errno("open directory");
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    ::close(listing_fd);
    return Error::from_errno("list directory");
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(listing, ::closedir);
  std::vector<std::string> children;
  errno = 0;
  while (struct dirent* entry = ::readdir(listing)) {
    std::string child = entry->d_name;
    if (child != "." && child != "..") children.push_back(std::move(child));
  }
  if (errno != 0) return Error::from_errno("list directory");
  return children;
}

/// Opens the directory `name` in `dir_fd`, never through a symlink.
Result<UniqueFd> open_child_directory(int dir_fd, const std::string& name) {
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("open directory \"" + name + "\"");
  return UniqueFd(fd);
}

/// Removes `name` in `dir_fd` and, for a directory, everything below it. Never follows a
/// symlink: each directory is opened O_NOFOLLOW relative to its parent's fd.
Result<void> remove_tree_at(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return ok();
  if (errno != EISDIR && errno != EPERM) return Error::from_errno("remove \"" + name + "\"");
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return ok();
  if (errno != ENOTEMPTY && errno != EEXIST)
    return Error::from_errno("remove directory \"" + name + "\"");
  UniqueFd child = PODRT_TRY(open_child_directory(dir_fd, name));
  for (const std::string& grandchild : PODRT_TRY(list_children(child.get())))
    PODRT_TRY(remove_tree_at(child.get(), grandchild));
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return Error::from_errno("remove directory \"" + name + "\"");
  return ok();
}

/// clear_directory's walk: below a kept directory, its own children are judged the same way.
Result<void> clear_below(int dir_fd, const std::string& dir_path,
                         const std::function<bool(std::string_view)>& keep) {
  for (const std::string& child : PODRT_TRY(list_children(dir_fd))) {
    std::string child_path = dir_path.empty() ? child : dir_path + "/" + child;
    if (!keep(child_path)) {
      PODRT_TRY(remove_tree_at(dir_fd, child));
      continue;
    }
    struct stat st;
    if (::fstatat(dir_fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Error::from_errno("stat \"" + child_path + "\"");
    if (!S_ISDIR(st.st_mode)) continue;
    UniqueFd child_fd = PODRT_TRY(open_child_directory(dir_fd, child));
    PODRT_TRY(clear_below(child_fd.get(), child_path, keep));
  }
  return ok();
}

}  // namespace

Result<RootfsWriter> RootfsWriter::open(const std::string& root_dir) {
  int fd = ::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("open rootfs directory " + root_dir);
  return RootfsWriter(UniqueFd(fd), ::geteuid() == 0);
}

Result<int> RootfsWriter::parent_of(std::string_view path, std::string& name) {
  size_t slash = path.rfind('/');
  std::string_view parent = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  name.assign(slash == std::string_view::npos ? path : path.substr(slash + 1));
  if (parent.empty()) return root_.get();
  if (cached_parent_fd_ && cached_parent_path_ == parent) return cached_parent_fd_.get();
  cached_parent_fd_ = PODRT_TRY(open_directory_beneath(root_.get(), parent, true));
  cached_parent_path_.assign(parent);
  return cached_parent_fd_.get();
}

Result<void> RootfsWriter::remove_existing(int dir_fd, const std::string& name) {
  PODRT_TRY_CONTEXT(remove_tree_at(dir_fd, name), "replace existing entry");
  // The removed directory may be the cached parent: forget it (dir_fd may be closed now, so
  // callers look their parent up again).
  cached_parent_fd_.reset();
  cached_parent_path_.clear();
  return ok();
}

Result<void> RootfsWriter::apply_owner_and_times(int dir_fd, const std::string& name,
                                                 const EntryMeta& meta) {
  if (preserve_owner_ &&
      ::fchownat(dir_fd, name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno("chown");
  struct timespec times[2] = {meta.atime, meta.mtime};
  if (::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno("set times");
  return ok();
}

Result<void> RootfsWriter::directory(std::string_view path, const EntryMeta& meta) {
  pending_directories_.push_back({std::string(path), meta});
  if (path.empty()) return ok();  // the root itself: metadata only
  std::string name;
  int parent = PODRT_TRY(parent_of(path, name));
  if (::mkdirat(parent, name.c_str(), 0700) == 0) return ok();
  if (errno != EEXIST) return Error::from_errno("create directory");
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno("stat");
  if (S_ISDIR(st.st_mode)) return ok();
  PODRT_TRY(remove_existing(parent, name));
  parent = PODRT_TRY(parent_of(path, name));
  if (::mkdirat(parent, name.c_str(), 0700) != 0) return Error::from_errno("create directory");
  return ok();
}

Result<void> RootfsWriter::regular_file(std::string_view path, const EntryMeta& meta,
                                        struct archive* reader, int64_t size) {
  std::string name;
  int parent = PODRT_TRY(parent_of(path, name));
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int raw_fd = ::openat(parent, name.c_str(), kFlags, 0600);
  if (raw_fd < 0 && errno == EEXIST) {
    PODRT_TRY(remove_existing(parent, name));
    parent = PODRT_TRY(parent_of(path, name));
    raw_fd = ::openat(parent, name.c_str(), kFlags, 0600);
  }
  if (raw_fd < 0) return Error::from_errno("create file");
  UniqueFd fd(raw_fd);

  int64_t end = 0;
  for (;;) {
    const void* block = nullptr;
    size_t block_size = 0;
    la_int64_t offset = 0;
    int status = archive_read_data_block(reader, &block, &block_size, &offset);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK) return Error::invalid("read data: " + archive_error_line(reader));
    // Sparse files: blocks come with their offsets; holes are left unwritten.
    PODRT_TRY(pwrite_all(fd.get(), static_cast<const char*>(block), block_size, offset));
    end = std::max<int64_t>(end, offset + static_cast<int64_t>(block_size));
  }
  if (size > end && ::ftruncate(fd.get(), size) != 0) return Error::from_errno("truncate");
  // Start writeback of big files now, so that the store's syncfs before the image becomes
  // visible finds little left to write (the dpkg trick). Failure only costs speed.
  if (end >= kEarlyWritebackBytes) (void)::sync_file_range(fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  if (preserve_owner_ && ::fchown(fd.get(), meta.uid, meta.gid) != 0)
    return Error::from_errno("chown");
  // After chown, which clears setuid/setgid.
  if (::fchmod(fd.get(), meta.mode & 07777) != 0) return Error::from_errno("chmod");
  struct timespec times[2] = {meta.atime, meta.mtime};
  if (::futimens(fd.get(), times) != 0) return Error::from_errno("set times");
  return ok();
}

Result<void> RootfsWriter::symlink(std::string_view path, const EntryMeta& meta,
                                   const char* target) {
  std::string name;
  int parent = PODRT_TRY(parent_of(path, name));
  if (::symlinkat(target, parent, name.c_str()) != 0) {
    if (errno != EEXIST) return Error::from_errno("create symlink");
    PODRT_TRY(remove_existing(parent, name));
    parent = PODRT_TRY(parent_of(path, name));
    if (::symlinkat(target, parent, name.c_str()) != 0) return Error::from_errno("create symlink");
  }
  return apply_owner_and_times(parent, name, meta);
}

Result<void> RootfsWriter::hardlink(std::string_view path, std::string_view target) {
  std::string target_name;
  // The target's parent is resolved like every other path: beneath the root, no symlinks.
  size_t slash = target.rfind('/');
  std::string_view target_parent =
      slash == std::string_view::npos ? std::string_view() : target.substr(0, slash);
  target_name.assign(slash == std::string_view::npos ? target : target.substr(slash + 1));
  UniqueFd target_dir = PODRT_TRY(open_directory_beneath(root_.get(), target_parent, false));

  std::string name;
  int parent = PODRT_TRY(parent_of(path, name));
  // flags 0: a symlink target is linked itself, never followed.
  if (::linkat(target_dir.get(), target_name.c_str(), parent, name.c_str(), 0) == 0) return ok();
  if (errno != EEXIST) return Error::from_errno("create hardlink");
  if (path == target) return ok();  // a link to itself: nothing to do
  PODRT_TRY(remove_existing(parent, name));
  parent = PODRT_TRY(parent_of(path, name));
  if (::linkat(target_dir.get(), target_name.c_str(), parent, name.c_str(), 0) != 0)
    return Error::from_errno("create hardlink");
  return ok();
}

Result<void> RootfsWriter::fifo(std::string_view path, const EntryMeta& meta) {
  std::string name;
  int parent = PODRT_TRY(parent_of(path, name));
  if (::mkfifoat(parent, name.c_str(), 0600) != 0) {
    if (errno != EEXIST) return Error::from_errno("create fifo");
    PODRT_TRY(remove_existing(parent, name));
    parent = PODRT_TRY(parent_of(path, name));
    if (::mkfifoat(parent, name.c_str(), 0600) != 0) return Error::from_errno("create fifo");
  }
  if (preserve_owner_ &&
      ::fchownat(parent, name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno("chown");
  // We just made `name` a FIFO in a directory only we write to: fchmodat cannot meet a symlink.
  if (::fchmodat(parent, name.c_str(), meta.mode & 07777, 0) != 0) return Error::from_errno("chmod");
  struct timespec times[2] = {meta.atime, meta.mtime};
  if (::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::from_errno("set times");
  return ok();
}

Result<void> RootfsWriter::remove(std::string_view path) {
  if (path.empty()) return Error::invalid("cannot remove the root itself");
  size_t slash = path.rfind('/');
  std::string_view parent_path = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  auto parent = open_directory_beneath(root_.get(), parent_path, /*create_missing=*/false);
  if (!parent) {
    // No parent (or a file where it would be): nothing to remove. A symlink is an error.
    if (parent.error().code() == ENOENT || parent.error().code() == ENOTDIR) return ok();
    return std::move(parent).error();
  }
  cached_parent_fd_.reset();  // it may be inside what goes
  cached_parent_path_.clear();
  return remove_tree_at(parent->get(), name);
}

Result<void> RootfsWriter::clear_directory(
    std::string_view path, const std::function<bool(std::string_view child_path)>& keep) {
  auto opened = open_beneath(root_.get(), std::string(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!opened) {
    // Nothing there, or not a directory: nothing of it to clear.
    if (opened.error().code() == ENOENT || opened.error().code() == ENOTDIR) return ok();
    return std::move(opened).error();
  }
  cached_parent_fd_.reset();
  cached_parent_path_.clear();
  return clear_below(opened->get(), std::string(path), keep);
}

Result<void> RootfsWriter::finish() {
  cached_parent_fd_.reset();
  // Deepest first, so closing a parent's permissions never blocks reaching a child.
  std::stable_sort(pending_directories_.begin(), pending_directories_.end(),
                   [](const PendingDirectory& a, const PendingDirectory& b) {
                     return depth_of(a.path) > depth_of(b.path);
                   });
  for (const PendingDirectory& pending : pending_directories_) {
    auto opened = open_beneath(root_.get(), pending.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!opened) {
      int code = opened.error().code();
      // Replaced later in the archive by a non-directory: nothing to apply.
      if (code == ENOENT || code == ENOTDIR || code == ELOOP) continue;
      return std::move(opened).error().with_context("directory \"" + pending.path + "\"");
    }
    int fd = opened->get();
    const EntryMeta& meta = pending.meta;
    std::string where = "directory \"" + pending.path + "\": ";
    if (preserve_owner_ && ::fchown(fd, meta.uid, meta.gid) != 0)
      return Error::from_errno(where + "chown");
    if (::fchmod(fd, meta.mode & 07777) != 0) return Error::from_errno(where + "chmod");
    struct timespec times[2] = {meta.atime, meta.mtime};
    if (::futimens(fd, times) != 0) return Error::from_errno(where + "set times");
  }
  pending_directories_.clear();
  return ok();
}

}  // namespace podrt::image
