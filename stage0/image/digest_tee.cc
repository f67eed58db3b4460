// The hash-and-copy worker behind the ACI stream.
#include "stage0/image/digest_tee.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace podrt::image {

DigestTee::DigestTee(UniqueFd tee_fd, std::string tee_path)
    : tee_fd_(std::move(tee_fd)), tee_path_(std::move(tee_path)), worker_([this] { run(); }) {}

DigestTee::~DigestTee() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  worker_.join();
}

Result<void> DigestTee::submit(const void* data, size_t size) {
  if (size == 0) return ok();
  std::unique_lock lock(mutex_);
  work_done_.wait(lock, [this] { return queued_.size() < kMaxQueuedBlocks || error_; });
  if (error_) return *error_;
  std::vector<unsigned char> block;
  if (!spare_.empty()) {
    block = std::move(spare_.back());
    spare_.pop_back();
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  block.assign(bytes, bytes + size);
  queued_.push_back(std::move(block));
  lock.unlock();
  work_ready_.notify_one();
  return ok();
}

Result<void> DigestTee::wait() {
  std::unique_lock lock(mutex_);
  work_done_.wait(lock, [this] { return (queued_.empty() && !busy_) || error_; });
  if (error_) return *error_;
  return ok();
}

std::string DigestTee::hex_digest() {
  (void)wait();
  return sha_.hex_digest();
}

std::optional<Error> DigestTee::consume(const std::vector<unsigned char>& block) {
  sha_.update(block.data(), block.size());
  const unsigned char* data = block.data();
  size_t size = block.size();
  while (tee_fd_ && size > 0) {
    ssize_t n = ::write(tee_fd_.get(), data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("write " + tee_path_);
    }
    // Start writeback at once so the store's syncfs has little left to do; failure only
    // costs speed.
    (void)::sync_file_range(tee_fd_.get(), tee_offset_, n, SYNC_FILE_RANGE_WRITE);
    tee_offset_ += n;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return std::nullopt;
}

void DigestTee::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [this] { return !queued_.empty() || stopping_; });
    if (queued_.empty()) return;  // stopping, nothing queued
    std::vector<unsigned char> block = std::move(queued_.front());
    queued_.pop_front();
    busy_ = true;
    bool failed = error_.has_value();
    lock.unlock();

    std::optional<Error> error = failed ? std::nullopt : consume(block);

    lock.lock();
    if (error && !error_) error_ = std::move(error);
    busy_ = false;
    spare_.push_back(std::move(block));
    work_done_.notify_one();
  }
}

}  // namespace podrt::image
