#include "stage1-kvm/devices/i8042.h"

namespace podrt::vmm {

// A wider access is split into byte accesses to consecutive ports, as the ISA bus does.
void I8042::read(uint64_t offset, std::span<uint8_t> data) {
  for (uint64_t i = 0; i < data.size(); ++i) {
    uint64_t port = offset + i;
    if (port == kDataOffset)
      data[i] = 0;
    else if (port == kCommandOffset)
      data[i] = kStatus;
    else
      data[i] = 0xff;
  }
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  for (uint64_t i = 0; i < data.size(); ++i) {
    // Every other command (and every data byte, which would go to the keyboard) is ignored.
    if (offset + i == kCommandOffset && data[i] == kResetCommand && reset_) reset_();
  }
}

}  // namespace podrt::vmm
