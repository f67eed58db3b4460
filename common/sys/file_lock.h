// FileLock: flock(2) on a file or directory, the way rkt guards pod states and the store.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::sys {

class FileLock {
 public:
  enum class Mode { Shared, Exclusive };
  enum class Wait { Block, NonBlocking };

  /// Opens `path` (a directory or a file, created if missing when `create` is set) for locking.
  static Result<FileLock> open(const std::string& path, bool create = false);
  /// Wraps an fd that is already open (e.g. one inherited from stage0).
  static FileLock adopt(UniqueFd fd) { return FileLock(std::move(fd)); }

  /// Takes the lock. With Wait::NonBlocking, an error with code EWOULDBLOCK means it is held.
  Result<void> lock(Mode mode, Wait wait);
  Result<void> unlock();

  int fd() const { return fd_.get(); }
  UniqueFd release_fd() { return std::move(fd_); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace podrt::sys
