#include "stage0/pods/pod_waiter.h"

#include <cerrno>
#include <chrono>
#include <thread>

#include "common/sys/file_lock.h"

namespace podrt::pods {

Result<bool> wait_for_exit(const std::string& pod_path, int64_t timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  sys::FileLock lock = PODRT_TRY(sys::FileLock::open(pod_path));
  while (true) {
    auto taken = lock.lock(sys::FileLock::Mode::Shared, sys::FileLock::Wait::NonBlocking);
    if (taken) return true;
    if (taken.error().code() != EWOULDBLOCK) return std::move(taken).error();
    if (timeout_seconds >= 0 && Clock::now() >= deadline) return false;
    // Polling rather than a blocking flock keeps the timeout simple; 10 ms is well below
    // what a pod's exit takes anyway.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace podrt::pods
