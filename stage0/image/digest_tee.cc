// The hash-and-copy worker behind the ACI stream.
#include "stage0/image/digest_tee.h"

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
  PODRT_TRY(wait());
  if (size == 0) return ok();
  {
    std::lock_guard lock(mutex_);
    block_ = static_cast<const unsigned char*>(data);
    block_size_ = size;
  }
  work_ready_.notify_one();
  return ok();
}

Result<void> DigestTee::wait() {
  std::unique_lock lock(mutex_);
  work_done_.wait(lock, [this] { return block_ == nullptr; });
  if (error_) return *error_;
  return ok();
}

std::string DigestTee::hex_digest() {
  (void)wait();
  return sha_.hex_digest();
}

void DigestTee::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [this] { return block_ != nullptr || stopping_; });
    if (block_ == nullptr) return;  // stopping, nothing in flight
    const unsigned char* data = block_;
    size_t size = block_size_;
    bool failed = error_.has_value();
    lock.unlock();

    sha_.update(data, size);
    std::optional<Error> write_error;
    while (tee_fd_ && !failed && size > 0) {
      ssize_t n = ::write(tee_fd_.get(), data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        write_error = Error::from_errno("write " + tee_path_);
        break;
      }
      data += n;
      size -= static_cast<size_t>(n);
    }

    lock.lock();
    if (write_error && !error_) error_ = std::move(write_error);
    block_ = nullptr;
    work_done_.notify_one();
  }
}

}  // namespace podrt::image
