// WorkDir: a private directory under cas/tmp for one piece of work in progress.
// It holds an flock while alive, so a sweeper can tell live work from the leftovers of a
// killed process; it is removed when the WorkDir goes away.
#pragma once

#include <string>

#include "common/result.h"
#include "common/sys/file_lock.h"

namespace podrt::store {

class WorkDir {
 public:
  static Result<WorkDir> create(const std::string& tmp_root, const std::string& purpose);
  WorkDir(WorkDir&& other) noexcept;
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  ~WorkDir();

  const std::string& path() const { return path_; }

  /// Removes the work dirs under `tmp_root` whose owner is gone; returns how many.
  static Result<uint64_t> sweep(const std::string& tmp_root);

 private:
  WorkDir(std::string path, sys::FileLock lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  std::string path_;
  sys::FileLock lock_;
};

}  // namespace podrt::store
