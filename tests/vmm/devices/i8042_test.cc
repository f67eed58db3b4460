#include "stage1-kvm/devices/i8042.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "stage1-kvm/bus/bus.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

struct I8042OnABus {
  I8042OnABus() {
    auto inserted = bus.insert(layout::kI8042DataPort, I8042::kPortCount, device);
    EXPECT_TRUE(inserted);
  }
  uint8_t in(uint16_t port) {
    uint8_t value = 0xaa;
    EXPECT_TRUE(bus.read(port, {&value, 1}));
    return value;
  }
  void out(uint16_t port, uint8_t value) { EXPECT_TRUE(bus.write(port, {&value, 1})); }

  int resets = 0;
  std::shared_ptr<I8042> device = std::make_shared<I8042>([this] { ++resets; });
  Bus bus;
};

TEST(I8042Test, PulseResetCommandOnTheCommandPortCallsTheCallback) {
  I8042OnABus i8042;
  i8042.out(layout::kI8042CommandPort, 0xfe);
  EXPECT_EQ(i8042.resets, 1);
}

TEST(I8042Test, OtherCommandsAndDataBytesAreIgnored) {
  I8042OnABus i8042;
  for (int value = 0; value < 256; ++value) {
    if (value != I8042::kResetCommand) i8042.out(layout::kI8042CommandPort, static_cast<uint8_t>(value));
    i8042.out(layout::kI8042DataPort, static_cast<uint8_t>(value));  // 0xfe here is not a command
  }
  EXPECT_EQ(i8042.resets, 0);
}

TEST(I8042Test, StatusShowsEmptyBuffersAndDataReadsZero) {
  I8042OnABus i8042;
  uint8_t status = i8042.in(layout::kI8042CommandPort);
  EXPECT_EQ(status & 0x01, 0) << "output buffer full: a driver would wait for keyboard data";
  EXPECT_EQ(status & 0x02, 0) << "input buffer full: Linux's reboot=k would wait before 0xfe";
  EXPECT_EQ(i8042.in(layout::kI8042DataPort), 0);
}

TEST(I8042Test, PortsBetweenDataAndCommandReadAllOnesAndIgnoreWrites) {
  I8042OnABus i8042;
  for (uint16_t port = layout::kI8042DataPort + 1; port < layout::kI8042CommandPort; ++port) {
    EXPECT_EQ(i8042.in(port), 0xff);
    i8042.out(port, 0xfe);
  }
  EXPECT_EQ(i8042.resets, 0);
}

TEST(I8042Test, AWideWriteReachesTheCommandPortByteByByte) {
  int resets = 0;
  I8042 counting([&resets] { ++resets; });
  const uint8_t bytes[2] = {0x00, 0xfe};  // an outw to port 0x63: 0xfe lands on 0x64
  counting.write(I8042::kCommandOffset - 1, bytes);
  EXPECT_EQ(resets, 1);
}

}  // namespace
}  // namespace podrt::vmm
