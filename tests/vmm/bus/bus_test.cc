#include "stage1-kvm/bus/bus.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

namespace podrt::vmm {
namespace {

/// Records every access; reads return the low byte of the offset in each byte.
class RecordingDevice : public BusDevice {
 public:
  struct Access {
    bool write;
    uint64_t offset;
    std::vector<uint8_t> data;
  };
  void read(uint64_t offset, std::span<uint8_t> data) override {
    for (auto& byte : data) byte = static_cast<uint8_t>(offset);
    accesses.push_back({false, offset, {data.begin(), data.end()}});
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    accesses.push_back({true, offset, {data.begin(), data.end()}});
  }
  std::vector<Access> accesses;
};

TEST(BusTest, DispatchesWithTheOffsetInsideTheRange) {
  Bus bus;
  auto first = std::make_shared<RecordingDevice>();
  auto second = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.insert(0x3f8, 8, first));
  ASSERT_TRUE(bus.insert(0x400, 0x10, second));

  uint8_t value = 0;
  EXPECT_TRUE(bus.read(0x3fd, {&value, 1}));
  EXPECT_EQ(value, 5);
  const uint8_t out[2] = {0xab, 0xcd};
  EXPECT_TRUE(bus.write(0x40e, out));

  ASSERT_EQ(first->accesses.size(), 1u);
  EXPECT_FALSE(first->accesses[0].write);
  EXPECT_EQ(first->accesses[0].offset, 5u);
  ASSERT_EQ(second->accesses.size(), 1u);
  EXPECT_TRUE(second->accesses[0].write);
  EXPECT_EQ(second->accesses[0].offset, 0xeu);
  EXPECT_EQ(second->accesses[0].data, (std::vector<uint8_t>{0xab, 0xcd}));
}

TEST(BusTest, UnmappedAddressesReturnFalseAndReachNoDevice) {
  Bus bus;
  auto device = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.insert(0x1000, 0x100, device));
  uint8_t data[4] = {};
  EXPECT_FALSE(bus.read(0xfff, {data, 1}));    // just below
  EXPECT_FALSE(bus.read(0x1100, {data, 1}));   // just past the end
  EXPECT_FALSE(bus.write(0, {data, 1}));
  EXPECT_FALSE(bus.write(std::numeric_limits<uint64_t>::max(), {data, 1}));
  EXPECT_TRUE(bus.read(0x10ff, {data, 1}));    // the last byte is mapped
  EXPECT_EQ(device->accesses.size(), 1u);
  EXPECT_FALSE(Bus().read(0, {data, 4}));      // an empty bus
}

TEST(BusTest, AnAccessStraddlingTheEndOfARangeIsNotDispatched) {
  Bus bus;
  auto device = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.insert(0x1000, 0x1000, device));
  ASSERT_TRUE(bus.insert(0x2000, 0x1000, device));
  uint8_t data[8] = {};
  EXPECT_FALSE(bus.read(0x1ffc, data));  // half in one range, half in the next
  EXPECT_FALSE(bus.write(0x2ffe, {data, 4}));
  EXPECT_TRUE(bus.read(0x1ff8, data));
  ASSERT_EQ(device->accesses.size(), 1u);
  EXPECT_EQ(device->accesses[0].offset, 0xff8u);
}

TEST(BusTest, RefusesOverlappingRanges) {
  Bus bus;
  auto device = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.insert(0x100, 0x10, device));
  EXPECT_FALSE(bus.insert(0x100, 0x10, device));  // the same range
  EXPECT_FALSE(bus.insert(0x10f, 1, device));     // its last byte
  EXPECT_FALSE(bus.insert(0xf0, 0x11, device));   // reaching into it from below
  EXPECT_FALSE(bus.insert(0x104, 2, device));     // inside it
  EXPECT_FALSE(bus.insert(0x0, 0x1000, device));  // around it
  EXPECT_TRUE(bus.insert(0xf0, 0x10, device));    // touching below
  EXPECT_TRUE(bus.insert(0x110, 0x10, device));   // touching above
  Result<void> refused = bus.insert(0x118, 4, device);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("overlaps"), std::string::npos) << refused.error().message();
}

TEST(BusTest, RefusesEmptyWrappingAndDevicelessRanges) {
  Bus bus;
  auto device = std::make_shared<RecordingDevice>();
  constexpr uint64_t kTop = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(bus.insert(0x100, 0, device));
  EXPECT_FALSE(bus.insert(kTop, 2, device));
  EXPECT_FALSE(bus.insert(1, kTop, device));
  EXPECT_FALSE(bus.insert(0x100, 1, nullptr));
  EXPECT_TRUE(bus.insert(kTop - 1, 1, device));  // the highest representable range
  uint8_t byte = 0;
  EXPECT_TRUE(bus.read(kTop - 1, {&byte, 1}));
  EXPECT_FALSE(bus.read(kTop, {&byte, 1}));
}

TEST(BusTest, ZeroLengthAccessIsNotDispatched) {
  Bus bus;
  auto device = std::make_shared<RecordingDevice>();
  ASSERT_TRUE(bus.insert(0, 0x10, device));
  EXPECT_FALSE(bus.read(0, std::span<uint8_t>()));
  EXPECT_TRUE(device->accesses.empty());
}

}  // namespace
}  // namespace podrt::vmm
