#include "stage1-kvm/virtio/virtio_mmio_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "tests/vmm/support/fake_virtqueue_driver.h"

namespace podrt::vmm {
namespace {

using testing::FakeVirtqueueDriver;
using Transport = VirtioMmioTransport;

class CountingInterruptLine final : public InterruptLine {
 public:
  void trigger() override { ++triggers; }
  std::atomic<int> triggers{0};
};

/// A device with two queues that echoes every chain on a notified queue back as used (written =
/// the chain's writable bytes), and can be told to fail.
class RecordingDevice final : public VirtioDevice {
 public:
  static constexpr uint64_t kFeatureA = 1ull << 0;
  static constexpr uint64_t kFeatureB = 1ull << 5;

  uint32_t device_type() const override { return 42; }
  uint16_t queue_count() const override { return 2; }
  uint16_t queue_max_size() const override { return 64; }
  uint64_t device_features() const override { return kFeatureA | kFeatureB; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i)
      if (offset + i < config.size()) data[i] = config[offset + i];
  }
  void write_config(uint64_t offset, std::span<const uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i)
      if (offset + i < config.size()) config[offset + i] = data[i];
  }
  Result<void> activate(uint64_t features, VirtioActivation given) override {
    ++activations;
    negotiated = features;
    if (refuse_activation) return Error::invalid("refused");
    activation = std::move(given);
    return ok();
  }
  void queue_notified(uint16_t index) override {
    notified.push_back(index);
    if (!activation) return;
    if (fail_next_notify) {
      activation->fail(Error::invalid("hostile chain"));
      return;
    }
    Virtqueue& queue = activation->queues[index];
    while (true) {
      auto chain = queue.pop();
      if (!chain || !*chain) break;
      (void)queue.push_used((*chain)->head, static_cast<uint32_t>((*chain)->writable_bytes()));
      activation->signal_used();
    }
  }
  void reset() override {
    ++resets;
    activation.reset();
  }

  std::vector<uint8_t> config = {1, 2, 3, 4, 5, 6, 7, 8};
  std::optional<VirtioActivation> activation;
  uint64_t negotiated = 0;
  int activations = 0;
  int resets = 0;
  bool refuse_activation = false;
  bool fail_next_notify = false;
  std::vector<uint16_t> notified;
};

class VirtioMmioTransportTest : public ::testing::Test {
 protected:
  uint32_t read32(uint64_t offset) {
    uint32_t value = 0;
    transport_.read(offset, {reinterpret_cast<uint8_t*>(&value), 4});
    return value;
  }
  void write32(uint64_t offset, uint32_t value) {
    transport_.write(offset, {reinterpret_cast<const uint8_t*>(&value), 4});
  }
  void write64(uint64_t low_offset, uint64_t value) {
    write32(low_offset, static_cast<uint32_t>(value));
    write32(low_offset + 4, static_cast<uint32_t>(value >> 32));
  }
  uint64_t device_features() {
    write32(Transport::kDeviceFeaturesSelOffset, 0);
    uint64_t low = read32(Transport::kDeviceFeaturesOffset);
    write32(Transport::kDeviceFeaturesSelOffset, 1);
    uint64_t high = read32(Transport::kDeviceFeaturesOffset);
    return low | high << 32;
  }
  void write_driver_features(uint64_t features) {
    write32(Transport::kDriverFeaturesSelOffset, 0);
    write32(Transport::kDriverFeaturesOffset, static_cast<uint32_t>(features));
    write32(Transport::kDriverFeaturesSelOffset, 1);
    write32(Transport::kDriverFeaturesOffset, static_cast<uint32_t>(features >> 32));
  }
  void set_up_queue(uint16_t index, const FakeVirtqueueDriver& driver) {
    write32(Transport::kQueueSelOffset, index);
    ASSERT_EQ(read32(Transport::kQueueReadyOffset), 0u);
    ASSERT_GE(read32(Transport::kQueueNumMaxOffset), driver.size());
    write32(Transport::kQueueNumOffset, driver.size());
    write64(Transport::kQueueDescLowOffset, driver.descriptor_table());
    write64(Transport::kQueueDriverLowOffset, driver.avail_ring());
    write64(Transport::kQueueDeviceLowOffset, driver.used_ring());
    write32(Transport::kQueueReadyOffset, 1);
    ASSERT_EQ(read32(Transport::kQueueReadyOffset), 1u);
  }
  /// The spec's driver initialization (3.1.1) up to FEATURES_OK; returns whether it stuck.
  bool negotiate(uint64_t features) {
    write32(Transport::kStatusOffset, 0);
    write32(Transport::kStatusOffset, Transport::kStatusAcknowledge);
    write32(Transport::kStatusOffset, Transport::kStatusAcknowledge | Transport::kStatusDriver);
    write_driver_features(features);
    write32(Transport::kStatusOffset, Transport::kStatusAcknowledge | Transport::kStatusDriver |
                                          Transport::kStatusFeaturesOk);
    return read32(Transport::kStatusOffset) & Transport::kStatusFeaturesOk;
  }
  static constexpr uint32_t kAllUpToDriverOk = Transport::kStatusAcknowledge |
                                               Transport::kStatusDriver |
                                               Transport::kStatusFeaturesOk |
                                               Transport::kStatusDriverOk;
  /// The whole initialization with queue 0 (at driver0_) set up.
  void bring_up() {
    ASSERT_TRUE(negotiate(Transport::kFeatureVersion1 | RecordingDevice::kFeatureB));
    set_up_queue(0, driver0_);
    write32(Transport::kStatusOffset, kAllUpToDriverOk);
    ASSERT_EQ(read32(Transport::kStatusOffset), kAllUpToDriverOk);
  }

  GuestMemory memory_ = GuestMemory::allocate(1 << 20).value();
  FakeVirtqueueDriver driver0_{memory_, 16, 0x1000};
  FakeVirtqueueDriver driver1_{memory_, 8, 0x8000};
  std::shared_ptr<RecordingDevice> device_ = std::make_shared<RecordingDevice>();
  CountingInterruptLine interrupt_;
  Transport transport_{device_, memory_, interrupt_};
};

TEST_F(VirtioMmioTransportTest, IdentifiesAsAVersion2Device) {
  EXPECT_EQ(read32(Transport::kMagicValueOffset), 0x74726976u);
  EXPECT_EQ(read32(Transport::kVersionOffset), 2u);
  EXPECT_EQ(read32(Transport::kDeviceIdOffset), 42u);
  EXPECT_EQ(read32(Transport::kVendorIdOffset), Transport::kVendorId);
  EXPECT_EQ(read32(Transport::kStatusOffset), 0u);
}

TEST_F(VirtioMmioTransportTest, OffersTheDeviceFeaturesPlusVersion1) {
  EXPECT_EQ(device_features(),
            RecordingDevice::kFeatureA | RecordingDevice::kFeatureB | Transport::kFeatureVersion1);
  write32(Transport::kDeviceFeaturesSelOffset, 2);
  EXPECT_EQ(read32(Transport::kDeviceFeaturesOffset), 0u);
}

TEST_F(VirtioMmioTransportTest, InitSequenceActivatesTheDeviceWithItsQueues) {
  ASSERT_TRUE(negotiate(Transport::kFeatureVersion1 | RecordingDevice::kFeatureB));
  set_up_queue(0, driver0_);
  set_up_queue(1, driver1_);
  EXPECT_EQ(device_->activations, 0);
  write32(Transport::kStatusOffset, kAllUpToDriverOk);
  EXPECT_EQ(read32(Transport::kStatusOffset), kAllUpToDriverOk);
  ASSERT_EQ(device_->activations, 1);
  EXPECT_EQ(device_->negotiated, Transport::kFeatureVersion1 | RecordingDevice::kFeatureB);
  ASSERT_TRUE(device_->activation);
  ASSERT_EQ(device_->activation->queues.size(), 2u);
  EXPECT_TRUE(device_->activation->queues[0].ready());
  EXPECT_EQ(device_->activation->queues[0].size(), 16);
  EXPECT_EQ(device_->activation->queues[1].size(), 8);
  EXPECT_EQ(device_->activation->memory, &memory_);
}

TEST_F(VirtioMmioTransportTest, AQueueLeftUnreadyIsHandedOverUnset) {
  bring_up();
  ASSERT_TRUE(device_->activation);
  EXPECT_TRUE(device_->activation->queues[0].ready());
  EXPECT_FALSE(device_->activation->queues[1].ready());
}

TEST_F(VirtioMmioTransportTest, NotifyReachesTheDeviceAndRaisesTheUsedInterrupt) {
  bring_up();
  uint64_t buffer = driver0_.allocate(32);
  uint16_t head = driver0_.add_chain({{buffer, 32, true}});
  write32(Transport::kQueueNotifyOffset, 0);
  ASSERT_EQ(device_->notified, std::vector<uint16_t>{0});
  auto used = driver0_.take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->length, 32u);
  EXPECT_EQ(interrupt_.triggers, 1);
  EXPECT_EQ(read32(Transport::kInterruptStatusOffset), Transport::kInterruptUsedBuffer);
  write32(Transport::kInterruptAckOffset, Transport::kInterruptUsedBuffer);
  EXPECT_EQ(read32(Transport::kInterruptStatusOffset), 0u);
}

TEST_F(VirtioMmioTransportTest, IoeventfdPathNotifiesLikeTheRegister) {
  bring_up();
  transport_.queue_notified(0);
  transport_.queue_notified(7);  // no such queue: dropped
  EXPECT_EQ(device_->notified, std::vector<uint16_t>{0});
}

TEST_F(VirtioMmioTransportTest, NotifyBeforeDriverOkIsIgnored) {
  write32(Transport::kQueueNotifyOffset, 0);
  transport_.queue_notified(0);
  EXPECT_TRUE(device_->notified.empty());
}

TEST_F(VirtioMmioTransportTest, FeaturesOkRefusedWithoutVersion1) {
  EXPECT_FALSE(negotiate(RecordingDevice::kFeatureA));
  // DRIVER_OK without FEATURES_OK does not activate either.
  set_up_queue(0, driver0_);
  write32(Transport::kStatusOffset, kAllUpToDriverOk & ~Transport::kStatusFeaturesOk);
  EXPECT_EQ(device_->activations, 0);
  EXPECT_EQ(read32(Transport::kStatusOffset) & Transport::kStatusDriverOk, 0u);
}

TEST_F(VirtioMmioTransportTest, FeaturesOkRefusedForUnofferedFeatures) {
  EXPECT_FALSE(negotiate(Transport::kFeatureVersion1 | (1ull << 3)));
  EXPECT_TRUE(negotiate(Transport::kFeatureVersion1));
}

TEST_F(VirtioMmioTransportTest, FeaturesAreFixedOnceAccepted) {
  ASSERT_TRUE(negotiate(Transport::kFeatureVersion1));
  write_driver_features(Transport::kFeatureVersion1 | RecordingDevice::kFeatureA);
  set_up_queue(0, driver0_);
  write32(Transport::kStatusOffset, kAllUpToDriverOk);
  EXPECT_EQ(device_->negotiated, Transport::kFeatureVersion1);
}

TEST_F(VirtioMmioTransportTest, ResetDropsTheActivationAndEveryRegister) {
  bring_up();
  write32(Transport::kStatusOffset, 0);
  EXPECT_GE(device_->resets, 1);
  EXPECT_FALSE(device_->activation);
  EXPECT_EQ(read32(Transport::kStatusOffset), 0u);
  write32(Transport::kQueueSelOffset, 0);
  EXPECT_EQ(read32(Transport::kQueueReadyOffset), 0u);
  transport_.queue_notified(0);
  EXPECT_TRUE(device_->notified.empty());
  // And the device comes up again.
  bring_up();
  EXPECT_EQ(device_->activations, 2);
}

TEST_F(VirtioMmioTransportTest, ClearingAStatusBitIsIgnored) {
  bring_up();
  write32(Transport::kStatusOffset, Transport::kStatusAcknowledge);
  EXPECT_EQ(read32(Transport::kStatusOffset), kAllUpToDriverOk);
}

TEST_F(VirtioMmioTransportTest, QueueRegistersFreezeOnceReadyOrLive) {
  ASSERT_TRUE(negotiate(Transport::kFeatureVersion1));
  set_up_queue(0, driver0_);
  write32(Transport::kQueueNumOffset, 4);  // the queue is ready: ignored
  write32(Transport::kStatusOffset, kAllUpToDriverOk);
  ASSERT_TRUE(device_->activation);
  EXPECT_EQ(device_->activation->queues[0].size(), 16);
  write32(Transport::kQueueReadyOffset, 0);  // live: ignored
  EXPECT_EQ(read32(Transport::kQueueReadyOffset), 1u);
}

TEST_F(VirtioMmioTransportTest, NonexistentQueueReadsZeroAndIgnoresWrites) {
  write32(Transport::kQueueSelOffset, 2);
  EXPECT_EQ(read32(Transport::kQueueNumMaxOffset), 0u);
  write32(Transport::kQueueReadyOffset, 1);
  EXPECT_EQ(read32(Transport::kQueueReadyOffset), 0u);
}

TEST_F(VirtioMmioTransportTest, BadQueueAddressFailsTheDeviceAtDriverOk) {
  ASSERT_TRUE(negotiate(Transport::kFeatureVersion1));
  write32(Transport::kQueueSelOffset, 0);
  write32(Transport::kQueueNumOffset, 16);
  write64(Transport::kQueueDescLowOffset, 0xffff'ffff'ffff'f000ull);
  write64(Transport::kQueueDriverLowOffset, driver0_.avail_ring());
  write64(Transport::kQueueDeviceLowOffset, driver0_.used_ring());
  write32(Transport::kQueueReadyOffset, 1);
  write32(Transport::kStatusOffset, kAllUpToDriverOk);
  EXPECT_EQ(device_->activations, 0);
  EXPECT_TRUE(read32(Transport::kStatusOffset) & Transport::kStatusDeviceNeedsReset);
  EXPECT_TRUE(read32(Transport::kInterruptStatusOffset) & Transport::kInterruptConfigChange);
}

TEST_F(VirtioMmioTransportTest, QueueAboveItsMaximumFailsTheDevice) {
  ASSERT_TRUE(negotiate(Transport::kFeatureVersion1));
  write32(Transport::kQueueSelOffset, 0);
  write32(Transport::kQueueNumOffset, 128);  // max is 64
  write32(Transport::kQueueReadyOffset, 1);
  write32(Transport::kStatusOffset, kAllUpToDriverOk);
  EXPECT_EQ(device_->activations, 0);
  EXPECT_TRUE(transport_.failed());
}

TEST_F(VirtioMmioTransportTest, RefusedActivationFailsTheDevice) {
  device_->refuse_activation = true;
  ASSERT_TRUE(negotiate(Transport::kFeatureVersion1));
  set_up_queue(0, driver0_);
  write32(Transport::kStatusOffset, kAllUpToDriverOk);
  EXPECT_EQ(device_->activations, 1);
  EXPECT_TRUE(transport_.failed());
  EXPECT_EQ(read32(Transport::kStatusOffset),
            kAllUpToDriverOk | Transport::kStatusDeviceNeedsReset);
  transport_.queue_notified(0);
  EXPECT_TRUE(device_->notified.empty());
}

TEST_F(VirtioMmioTransportTest, DeviceFailureNeedsResetOnceAndStopsNotifies) {
  bring_up();
  device_->fail_next_notify = true;
  transport_.queue_notified(0);
  EXPECT_TRUE(read32(Transport::kStatusOffset) & Transport::kStatusDeviceNeedsReset);
  EXPECT_EQ(read32(Transport::kInterruptStatusOffset), Transport::kInterruptConfigChange);
  EXPECT_EQ(interrupt_.triggers, 1);
  // A second failure report changes nothing; notifies no longer reach the device.
  device_->activation->fail(Error::invalid("again"));
  EXPECT_EQ(interrupt_.triggers, 1);
  transport_.queue_notified(0);
  EXPECT_EQ(device_->notified.size(), 1u);
  // Reset clears it.
  write32(Transport::kStatusOffset, 0);
  EXPECT_EQ(read32(Transport::kStatusOffset), 0u);
  EXPECT_FALSE(transport_.failed());
  EXPECT_EQ(read32(Transport::kInterruptStatusOffset), 0u);
}

TEST_F(VirtioMmioTransportTest, DriverCannotSetDeviceNeedsReset) {
  write32(Transport::kStatusOffset, Transport::kStatusAcknowledge | Transport::kStatusDeviceNeedsReset);
  EXPECT_EQ(read32(Transport::kStatusOffset), Transport::kStatusAcknowledge);
}

TEST_F(VirtioMmioTransportTest, MisalignedAndNarrowRegisterAccessesAreIgnored) {
  uint8_t byte = 0;
  transport_.read(Transport::kMagicValueOffset, {&byte, 1});
  EXPECT_EQ(byte, 0xff);
  uint32_t value = 0;
  transport_.read(Transport::kMagicValueOffset + 2, {reinterpret_cast<uint8_t*>(&value), 4});
  EXPECT_EQ(value, 0xffffffffu);
  uint64_t wide = 0;
  transport_.read(Transport::kMagicValueOffset, {reinterpret_cast<uint8_t*>(&wide), 8});
  EXPECT_EQ(wide, ~0ull);
  uint8_t status = Transport::kStatusAcknowledge;
  transport_.write(Transport::kStatusOffset, {&status, 1});
  EXPECT_EQ(read32(Transport::kStatusOffset), 0u);
  EXPECT_EQ(read32(0x0f0), 0xffffffffu);  // no register there
}

TEST_F(VirtioMmioTransportTest, ConfigSpaceGoesToTheDevice) {
  uint16_t half = 0;
  transport_.read(Transport::kConfigOffset + 2, {reinterpret_cast<uint8_t*>(&half), 2});
  EXPECT_EQ(half, 0x0403);
  uint32_t past = 0;
  transport_.read(Transport::kConfigOffset + 6, {reinterpret_cast<uint8_t*>(&past), 4});
  EXPECT_EQ(past, 0xffff0807u);  // bytes the device leaves alone read as all-ones
  uint8_t byte = 0x99;
  transport_.write(Transport::kConfigOffset + 1, {&byte, 1});
  EXPECT_EQ(device_->config[1], 0x99);
  EXPECT_EQ(read32(Transport::kConfigGenerationOffset), 0u);
}

TEST_F(VirtioMmioTransportTest, DestructionMakesAnActiveDeviceDropItsActivation) {
  auto device = std::make_shared<RecordingDevice>();
  {
    Transport transport(device, memory_, interrupt_);
    auto write = [&](uint64_t offset, uint32_t value) {
      transport.write(offset, {reinterpret_cast<const uint8_t*>(&value), 4});
    };
    write(Transport::kDriverFeaturesSelOffset, 1);
    write(Transport::kDriverFeaturesOffset, 1);  // VERSION_1
    write(Transport::kStatusOffset, Transport::kStatusAcknowledge | Transport::kStatusDriver |
                                        Transport::kStatusFeaturesOk);
    write(Transport::kStatusOffset, kAllUpToDriverOk);
    ASSERT_TRUE(device->activation);
  }
  // The activation's callbacks pointed at the destroyed transport.
  EXPECT_FALSE(device->activation);
}

}  // namespace
}  // namespace podrt::vmm
