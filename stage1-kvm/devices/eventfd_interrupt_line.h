// EventFdInterruptLine: a device's interrupt as an eventfd. The VMM registers fd() with
// KVM_IRQFD for the device's IOAPIC pin, so trigger() raises the interrupt without a VM exit.
#pragma once

#include <memory>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/devices/interrupt_line.h"

namespace podrt::vmm {

class EventFdInterruptLine : public InterruptLine {
 public:
  static Result<std::unique_ptr<EventFdInterruptLine>> create();

  /// The eventfd, for KVM_IRQFD. Owned by this object.
  int fd() const { return eventfd_.get(); }
  /// Adds 1 to the eventfd. Never blocks: KVM drains it; a counter at its maximum already
  /// means an interrupt is on its way.
  void trigger() override;

 private:
  explicit EventFdInterruptLine(UniqueFd eventfd) : eventfd_(std::move(eventfd)) {}
  UniqueFd eventfd_;
};

}  // namespace podrt::vmm
