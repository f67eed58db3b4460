#include "stage1-kvm/vmm/stop_signal.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace podrt::vmm {

Result<StopSignal> StopSignal::create() {
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event) return Error::from_errno("eventfd");
  return StopSignal(std::move(event));
}

void StopSignal::request(Result<void> reason) {
  {
    std::lock_guard lock(*mutex_);
    if (reason_) return;
    reason_ = std::move(reason);
  }
  requested_->store(true, std::memory_order_release);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(event_.get(), &one, sizeof one);
}

Result<void> StopSignal::reason() const {
  std::lock_guard lock(*mutex_);
  if (!reason_) return ok();
  return *reason_;
}

}  // namespace podrt::vmm
