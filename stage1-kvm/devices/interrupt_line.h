// InterruptLine: how a device raises its interrupt. In the VM it is an eventfd registered with
// KVM_IRQFD (an edge on one IOAPIC pin); tests count triggers with a fake.
#pragma once

namespace podrt::vmm {

class InterruptLine {
 public:
  virtual ~InterruptLine() = default;
  /// Raises the interrupt once. Safe from any thread.
  virtual void trigger() = 0;
};

}  // namespace podrt::vmm
