// BusDevice: what the VMM's port-I/O and MMIO buses dispatch guest accesses to. A device sees
// the offset inside its own range, never the guest address. Accesses come from vCPU threads and
// (for some devices) the event loop at once: a device locks whatever state it shares.
#pragma once

#include <cstdint>
#include <span>

namespace podrt::vmm {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  /// Fills `data` (1, 2, 4 or 8 bytes) with the register at `offset`. Registers that do not
  /// exist read as all-ones, as on real hardware.
  virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
  /// A guest write of `data` to the register at `offset`; writes to nothing are ignored.
  virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

}  // namespace podrt::vmm
