// StopSignal: how any thread of the VMM (a vCPU that saw a triple fault, the i8042 reset, a device
// that hit an error, a signal) ends the VM. The first reason wins; an eventfd wakes the event
// loop, whose thread then stops the vCPUs.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::vmm {

class StopSignal {
 public:
  static Result<StopSignal> create();

  /// The guest ended itself (power off, reboot): the VM's normal end.
  void guest_ended() { request(ok()); }
  /// The VM cannot go on: `error` is what podrt-vmm reports and exits non-zero for.
  void fail(Error error) { request(std::move(error)); }

  bool requested() const { return requested_->load(std::memory_order_acquire); }
  /// Readable once stop was requested (for the event loop).
  int fd() const { return event_.get(); }
  /// The first reason given (ok() for guest_ended); only meaningful once requested().
  Result<void> reason() const;

 private:
  explicit StopSignal(UniqueFd event) : event_(std::move(event)) {}
  void request(Result<void> reason);

  UniqueFd event_;
  // Behind pointers so that StopSignal can move out of create().
  std::unique_ptr<std::atomic<bool>> requested_ = std::make_unique<std::atomic<bool>>(false);
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
  std::optional<Result<void>> reason_;
};

}  // namespace podrt::vmm
