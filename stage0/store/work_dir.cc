#include "stage0/store/work_dir.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "common/sys/file.h"

namespace podrt::store {

Result<WorkDir> WorkDir::create(const std::string& tmp_root, const std::string& purpose) {
  std::string pattern = tmp_root + "/" + purpose + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return Error::from_errno("create work dir in " + tmp_root);
  auto lock = sys::FileLock::open(pattern, /*create=*/false);
  if (!lock) {
    (void)sys::remove_tree(pattern);
    return std::move(lock).error();
  }
  auto locked = lock->lock(sys::FileLock::Mode::Exclusive, sys::FileLock::Wait::NonBlocking);
  if (!locked) {
    (void)sys::remove_tree(pattern);
    return std::move(locked).error();
  }
  return WorkDir(std::move(pattern), std::move(*lock));
}

WorkDir::WorkDir(WorkDir&& other) noexcept
    : path_(std::move(other.path_)), lock_(std::move(other.lock_)) {
  other.path_.clear();
}

WorkDir::~WorkDir() {
  if (!path_.empty()) (void)sys::remove_tree(path_);
}

Result<uint64_t> WorkDir::sweep(const std::string& tmp_root) {
  uint64_t removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tmp_root, ec)) {
    std::string path = entry.path();
    auto lock = sys::FileLock::open(path);
    if (!lock) continue;
    // A live WorkDir holds its lock: only directories nobody holds are leftovers.
    if (!lock->lock(sys::FileLock::Mode::Exclusive, sys::FileLock::Wait::NonBlocking)) continue;
    PODRT_TRY(sys::remove_tree(path));
    ++removed;
  }
  if (ec && ec.value() != ENOENT) return Error::with_code(ec.value(), "list " + tmp_root);
  return removed;
}

}  // namespace podrt::store
