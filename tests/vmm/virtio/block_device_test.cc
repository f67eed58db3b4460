#include "stage1-kvm/virtio/block_device.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/vmm/support/fake_virtqueue_driver.h"

namespace podrt::vmm {
namespace {

using testing::FakeVirtqueueDriver;
using testing::RawDescriptor;

constexpr uint64_t kDiskSectors = 64;
constexpr uint64_t kDiskBytes = kDiskSectors * 512 + 100;  // a partial sector at the end

struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

/// A temporary disk image whose byte i is (i * 7 + i / 512) % 251, so every sector differs.
class TempDisk {
 public:
  TempDisk() {
    char name[] = "/tmp/podrt-block-test-XXXXXX";
    int fd = ::mkstemp(name);
    path_ = name;
    std::vector<uint8_t> bytes(kDiskBytes);
    for (uint64_t i = 0; i < bytes.size(); ++i) bytes[i] = expected_byte(i);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  ~TempDisk() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }
  static uint8_t expected_byte(uint64_t i) { return static_cast<uint8_t>((i * 7 + i / 512) % 251); }

 private:
  std::string path_;
};

class BlockDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = BlockDevice::open(disk_.path(), "serial-1234");
    ASSERT_TRUE(opened) << opened.error().message();
    device_ = std::move(*opened);
    auto queue = Virtqueue::create(memory_, driver_.config());
    ASSERT_TRUE(queue);
    queues_.push_back(std::move(*queue));
    VirtioActivation activation{
        .memory = &memory_,
        .queues = queues_,
        .signal_used = [this] { ++interrupts_; },
        .fail = [this](const Error& error) { failures_.push_back(error.message()); },
    };
    ASSERT_TRUE(device_->activate(BlockDevice::kFeatureReadOnly, std::move(activation)));
  }

  /// Posts {header}{data: `data_length` writable}{status} and notifies; returns the status
  /// byte's address. The data buffer's address is in data_address_.
  uint64_t submit(uint32_t type, uint64_t sector, uint32_t data_length, bool data_writable = true) {
    uint64_t header = driver_.allocate(sizeof(RequestHeader));
    EXPECT_TRUE(memory_.write_object(header, RequestHeader{type, 0, sector}));
    uint64_t status = driver_.allocate(1);
    EXPECT_TRUE(memory_.write_object(status, uint8_t{0xee}));
    if (data_length == 0) {
      driver_.add_chain({{header, sizeof(RequestHeader), false}, {status, 1, true}});
    } else {
      data_address_ = driver_.allocate(data_length);
      driver_.add_chain({{header, sizeof(RequestHeader), false},
                         {data_address_, data_length, data_writable},
                         {status, 1, true}});
    }
    device_->queue_notified(0);
    return status;
  }
  uint8_t status_at(uint64_t address) { return memory_.read_object<uint8_t>(address).value(); }

  TempDisk disk_;
  GuestMemory memory_ = GuestMemory::allocate(1 << 20).value();
  FakeVirtqueueDriver driver_{memory_, 16};
  std::vector<Virtqueue> queues_;
  std::unique_ptr<BlockDevice> device_;
  int interrupts_ = 0;
  std::vector<std::string> failures_;
  uint64_t data_address_ = 0;
};

TEST_F(BlockDeviceTest, ReportsCapacityInWholeSectors) {
  EXPECT_EQ(device_->capacity_sectors(), kDiskSectors);
  uint64_t capacity = 0;
  device_->read_config(0, {reinterpret_cast<uint8_t*>(&capacity), 8});
  EXPECT_EQ(capacity, kDiskSectors);
  uint32_t seg_max = 0;
  device_->read_config(12, {reinterpret_cast<uint8_t*>(&seg_max), 4});
  EXPECT_EQ(seg_max, BlockDevice::kSegMax);
  EXPECT_EQ(device_->device_type(), 2u);
  EXPECT_EQ(device_->device_features(), BlockDevice::kFeatureReadOnly |
                                            BlockDevice::kFeatureSegMax |
                                            BlockDevice::kFeatureFlush);
}

TEST_F(BlockDeviceTest, ReadsSectors) {
  uint64_t status = submit(BlockDevice::kRequestIn, 3, 2 * 512);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusOk);
  std::vector<uint8_t> data(2 * 512);
  ASSERT_TRUE(memory_.read(data_address_, data));
  for (uint64_t i = 0; i < data.size(); ++i)
    ASSERT_EQ(data[i], TempDisk::expected_byte(3 * 512 + i)) << "byte " << i;
  auto used = driver_.take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->length, 2 * 512 + 1u);
  EXPECT_EQ(interrupts_, 1);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(BlockDeviceTest, ReadsIntoScatteredBuffers) {
  uint64_t header = driver_.allocate(16);
  ASSERT_TRUE(memory_.write_object(header, RequestHeader{BlockDevice::kRequestIn, 0, 1}));
  uint64_t a = driver_.allocate(100), b = driver_.allocate(412), c = driver_.allocate(1);
  // The status byte shares the last buffer with data: it is the chain's last writable byte.
  driver_.add_chain({{header, 16, false}, {a, 100, true}, {b, 412, true}, {c, 1, true}});
  device_->queue_notified(0);
  EXPECT_EQ(status_at(c), BlockDevice::kStatusOk);
  std::vector<uint8_t> first(100), second(412);
  ASSERT_TRUE(memory_.read(a, first));
  ASSERT_TRUE(memory_.read(b, second));
  EXPECT_EQ(first[0], TempDisk::expected_byte(512));
  EXPECT_EQ(first[99], TempDisk::expected_byte(512 + 99));
  EXPECT_EQ(second[0], TempDisk::expected_byte(512 + 100));
  EXPECT_EQ(second[411], TempDisk::expected_byte(1023));
}

TEST_F(BlockDeviceTest, ReadsTheLastSector) {
  uint64_t status = submit(BlockDevice::kRequestIn, kDiskSectors - 1, 512);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusOk);
}

TEST_F(BlockDeviceTest, ReadPastCapacityIsAnIoError) {
  uint64_t status = submit(BlockDevice::kRequestIn, kDiskSectors - 1, 2 * 512);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusIoError);
  status = submit(BlockDevice::kRequestIn, kDiskSectors, 512);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusIoError);
  // sector * 512 would overflow 64 bits.
  status = submit(BlockDevice::kRequestIn, ~0ull / 256, 512);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusIoError);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(BlockDeviceTest, PartialSectorReadIsAnIoError) {
  uint64_t status = submit(BlockDevice::kRequestIn, 0, 100);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusIoError);
}

TEST_F(BlockDeviceTest, WriteIsRefusedWithIoError) {
  uint64_t status = submit(BlockDevice::kRequestOut, 0, 512, /*data_writable=*/false);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusIoError);
  auto used = driver_.take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->length, 1u);
  // The disk is untouched.
  std::vector<uint8_t> data(512);
  uint64_t read_status = submit(BlockDevice::kRequestIn, 0, 512);
  ASSERT_EQ(status_at(read_status), BlockDevice::kStatusOk);
  ASSERT_TRUE(memory_.read(data_address_, data));
  EXPECT_EQ(data[5], TempDisk::expected_byte(5));
}

TEST_F(BlockDeviceTest, FlushSucceeds) {
  uint64_t status = submit(BlockDevice::kRequestFlush, 0, 0);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusOk);
}

TEST_F(BlockDeviceTest, GetIdReturnsTheSerial) {
  uint64_t status = submit(BlockDevice::kRequestGetId, 0, 20);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusOk);
  char id[20];
  ASSERT_TRUE(memory_.read(data_address_, {reinterpret_cast<uint8_t*>(id), 20}));
  EXPECT_EQ(std::string(id, 11), "serial-1234");
  EXPECT_EQ(id[11], '\0');
  EXPECT_EQ(id[19], '\0');
}

TEST_F(BlockDeviceTest, UnknownRequestIsUnsupported) {
  uint64_t status = submit(11 /* DISCARD */, 0, 16, /*data_writable=*/false);
  EXPECT_EQ(status_at(status), BlockDevice::kStatusUnsupported);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(BlockDeviceTest, ServesEveryPendingRequestWithOneInterrupt) {
  for (uint64_t sector = 0; sector < 4; ++sector) {
    uint64_t header = driver_.allocate(16);
    ASSERT_TRUE(memory_.write_object(header, RequestHeader{BlockDevice::kRequestIn, 0, sector}));
    uint64_t data = driver_.allocate(513);
    driver_.add_chain({{header, 16, false}, {data, 513, true}});
  }
  device_->queue_notified(0);
  EXPECT_EQ(driver_.used_idx(), 4);
  EXPECT_EQ(interrupts_, 1);
}

TEST_F(BlockDeviceTest, SuppressedInterruptIsNotRaised) {
  driver_.set_avail_flags(FakeVirtqueueDriver::kAvailNoInterrupt);
  submit(BlockDevice::kRequestFlush, 0, 0);
  EXPECT_EQ(driver_.used_idx(), 1);
  EXPECT_EQ(interrupts_, 0);
}

TEST_F(BlockDeviceTest, ChainWithoutStatusByteFailsTheDevice) {
  uint64_t header = driver_.allocate(16);
  ASSERT_TRUE(memory_.write_object(header, RequestHeader{BlockDevice::kRequestIn, 0, 0}));
  driver_.add_chain({{header, 16, false}});
  device_->queue_notified(0);
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("status"), std::string::npos) << failures_[0];
  EXPECT_EQ(driver_.used_idx(), 0);
}

TEST_F(BlockDeviceTest, ShortHeaderFailsTheDevice) {
  uint64_t header = driver_.allocate(8), status = driver_.allocate(1);
  driver_.add_chain({{header, 8, false}, {status, 1, true}});
  device_->queue_notified(0);
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("header"), std::string::npos) << failures_[0];
}

TEST_F(BlockDeviceTest, HostileChainFailsTheDeviceAndLaterNotifiesDoNothing) {
  driver_.write_descriptor(0, RawDescriptor{.address = 0x100,
                                            .length = 16,
                                            .flags = FakeVirtqueueDriver::kDescriptorNext,
                                            .next = 0});  // loops on itself
  driver_.post_raw_head(0);
  device_->queue_notified(0);
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("loop"), std::string::npos) << failures_[0];
  // A good request afterwards is not served.
  driver_.write_descriptor(1, RawDescriptor{.address = 0x100, .length = 16,
                                            .flags = FakeVirtqueueDriver::kDescriptorNext,
                                            .next = 2});
  driver_.write_descriptor(2, RawDescriptor{.address = 0x200, .length = 1,
                                            .flags = FakeVirtqueueDriver::kDescriptorWrite});
  driver_.post_raw_head(1);
  device_->queue_notified(0);
  EXPECT_EQ(failures_.size(), 1u);
  EXPECT_EQ(driver_.used_idx(), 0);
  EXPECT_EQ(interrupts_, 0);
}

TEST_F(BlockDeviceTest, ResetDropsTheActivation) {
  device_->reset();
  submit(BlockDevice::kRequestFlush, 0, 0);
  EXPECT_EQ(driver_.used_idx(), 0);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(BlockDeviceTest, ActivationWithoutTheQueueIsRefused) {
  device_->reset();
  std::vector<Virtqueue> unset(1);
  VirtioActivation activation{
      .memory = &memory_, .queues = unset, .signal_used = [] {}, .fail = [](const Error&) {}};
  EXPECT_FALSE(device_->activate(0, std::move(activation)));
}

TEST(BlockDeviceOpenTest, MissingFileIsAnError) {
  auto opened = BlockDevice::open("/nonexistent/podrt-disk.img");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message().find("/nonexistent/podrt-disk.img"), std::string::npos);
}

}  // namespace
}  // namespace podrt::vmm
