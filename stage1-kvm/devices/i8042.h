// I8042: just enough of the PC keyboard controller for a guest to reset the machine. Linux
// booted with reboot=k waits for the input buffer to be empty (status bit 1 clear) and writes
// command 0xFE (pulse the reset line) to the command port; that ends the VM. There is no
// keyboard: the data port reads 0 and nothing is ever in the output buffer.
//
// The device covers the ports from layout::kI8042DataPort to layout::kI8042CommandPort as ONE
// bus range of kPortCount ports (offset 0: data, offset kCommandOffset: status/command), since
// a device only sees offsets and must tell the two ports apart. The ports between (0x61, the
// speaker port, is KVM's in-kernel PIT's and never exits) read all-ones.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "stage1-kvm/bus/bus_device.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {

class I8042 : public BusDevice {
 public:
  static constexpr uint64_t kDataOffset = 0;
  static constexpr uint64_t kCommandOffset = layout::kI8042CommandPort - layout::kI8042DataPort;
  /// The size of the bus range to insert at layout::kI8042DataPort.
  static constexpr uint64_t kPortCount = kCommandOffset + 1;
  static constexpr uint8_t kResetCommand = 0xfe;
  /// The status register: only the system flag (self-test passed); both buffers empty.
  static constexpr uint8_t kStatus = 0x04;

  /// `reset` is called (on a vCPU thread) each time the guest pulses the reset line.
  explicit I8042(std::function<void()> reset) : reset_(std::move(reset)) {}

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  std::function<void()> reset_;
};

}  // namespace podrt::vmm
