// DigestTee: hashes (SHA-512) and copies to a file one block at a time on a worker thread, so the
// image id costs no time beside extraction.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/sha512.h"
#include "common/unique_fd.h"

namespace podrt::image {

/// Threads: one worker, started by the constructor and joined by the destructor. All methods are
/// called from one (the owner's) thread. At most one block is in flight: submit() waits for the
/// previous one, so the caller may reuse a block's memory once the next submit() or wait()
/// returns. Pinned (the worker points at it).
class DigestTee {
 public:
  /// `tee_fd` (may be invalid: no copy) receives every block; `tee_path` names it in errors.
  DigestTee(UniqueFd tee_fd, std::string tee_path);
  ~DigestTee();
  DigestTee(const DigestTee&) = delete;
  DigestTee& operator=(const DigestTee&) = delete;

  /// Hands `size` bytes at `data` to the worker; they must stay valid until the next submit()
  /// or wait(). Fails when an earlier block could not be written.
  Result<void> submit(const void* data, size_t size);
  /// Waits until the block in flight is done; fails when a write failed.
  Result<void> wait();
  /// Waits, then finishes the digest (128 hex digits). Call once, at the end.
  std::string hex_digest();

 private:
  void run();

  UniqueFd tee_fd_;
  std::string tee_path_;
  Sha512 sha_;  // touched by the worker only while a block is in flight
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  const unsigned char* block_ = nullptr;  // guarded by mutex_; non-null: in flight
  size_t block_size_ = 0;                 // guarded by mutex_
  bool stopping_ = false;                 // guarded by mutex_
  std::optional<Error> error_;            // guarded by mutex_
  std::thread worker_;                    // last: started once everything above exists
};

}  // namespace podrt::image
