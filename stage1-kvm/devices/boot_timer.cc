#include "stage1-kvm/devices/boot_timer.h"

#include <algorithm>

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {

void BootTimer::read(uint64_t, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), uint8_t{0xff});
}

void BootTimer::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data.size() != 1 || data[0] != layout::kBootTimerMagic) return;
  auto since_start = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_);
  // Several vCPUs (or a guest that writes twice) must not report twice.
  if (reported_.exchange(true)) return;
  if (report_) report_(since_start);
}

}  // namespace podrt::vmm
