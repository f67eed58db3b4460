// DigestTee: hashes (SHA-512) and copies to a file one block at a time on a worker thread, so the
// image id costs no time beside extraction.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/sha512.h"
#include "common/unique_fd.h"

namespace podrt::image {

/// Threads: one worker, started by the constructor and joined by the destructor. All methods are
/// called from one (the owner's) thread. submit() copies the block into a queue of up to
/// kMaxQueuedBlocks, so extraction runs ahead of hashing instead of taking turns with it; it
/// waits only when the queue is full. Pinned (the worker points at it).
class DigestTee {
 public:
  /// Blocks that may wait for the worker at once (each up to the stream's block size).
  static constexpr size_t kMaxQueuedBlocks = 8;

  /// `tee_fd` (may be invalid: no copy) receives every block; `tee_path` names it in errors.
  DigestTee(UniqueFd tee_fd, std::string tee_path);
  ~DigestTee();
  DigestTee(const DigestTee&) = delete;
  DigestTee& operator=(const DigestTee&) = delete;

  /// Queues a copy of `size` bytes at `data`; the caller may reuse the memory at once. Fails
  /// when an earlier block could not be written.
  Result<void> submit(const void* data, size_t size);
  /// Waits until every queued block is hashed and written; fails when a write failed.
  Result<void> wait();
  /// Waits, then finishes the digest (128 hex digits). Call once, at the end.
  std::string hex_digest();

 private:
  void run();
  /// Hashes and writes one block (worker thread).
  std::optional<Error> consume(const std::vector<unsigned char>& block);

  UniqueFd tee_fd_;
  off64_t tee_offset_ = 0;  ///< bytes of the blob written so far (worker thread only)
  std::string tee_path_;
  Sha512 sha_;  // worker thread only, until wait() has returned
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::deque<std::vector<unsigned char>> queued_;  // guarded by mutex_
  std::vector<std::vector<unsigned char>> spare_;  // guarded by mutex_: buffers to reuse
  bool busy_ = false;                              // guarded by mutex_: the worker holds a block
  bool stopping_ = false;                          // guarded by mutex_
  std::optional<Error> error_;                     // guarded by mutex_
  std::thread worker_;                             // last: started once everything above exists
};

}  // namespace podrt::image
