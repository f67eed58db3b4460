// BootTimer: the boot-timer pseudo-device at layout::kBootTimerPort (as Firecracker's). guest-init
// writes layout::kBootTimerMagic there as soon as it runs; the first such write reports how long
// the boot took, counted from the instant the VMM started.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>

#include "stage1-kvm/bus/bus_device.h"

namespace podrt::vmm {

class BootTimer : public BusDevice {
 public:
  using Clock = std::chrono::steady_clock;
  using Report = std::function<void(std::chrono::nanoseconds since_start)>;

  /// `report` runs once, on the vCPU thread that wrote the magic byte.
  BootTimer(Clock::time_point start, Report report) : start_(start), report_(std::move(report)) {}

  /// Reads as all-ones: the port holds nothing to read.
  void read(uint64_t offset, std::span<uint8_t> data) override;
  /// A one-byte write of the magic value reports the boot time, once; anything else is ignored.
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  Clock::time_point start_;
  Report report_;
  std::atomic<bool> reported_{false};
};

}  // namespace podrt::vmm
