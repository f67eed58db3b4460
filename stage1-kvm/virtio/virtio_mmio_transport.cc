#include "stage1-kvm/virtio/virtio_mmio_transport.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/log.h"

namespace podrt::vmm {
namespace {

constexpr uint32_t kDriverStatusBits =
    VirtioMmioTransport::kStatusAcknowledge | VirtioMmioTransport::kStatusDriver |
    VirtioMmioTransport::kStatusDriverOk | VirtioMmioTransport::kStatusFeaturesOk |
    VirtioMmioTransport::kStatusFailed;

const char* device_name(uint32_t type) {
  switch (type) {
    case 1: return "virtio-net";
    case 2: return "virtio-blk";
    case 3: return "virtio-console";
    default: return "virtio device";
  }
}

uint64_t with_low_half(uint64_t value, uint32_t low) {
  return (value & 0xffffffff00000000ull) | low;
}
uint64_t with_high_half(uint64_t value, uint32_t high) {
  return (value & 0xffffffffull) | (uint64_t{high} << 32);
}

}  // namespace

VirtioMmioTransport::VirtioMmioTransport(std::shared_ptr<VirtioDevice> device,
                                         const GuestMemory& memory, InterruptLine& interrupt)
    : device_(std::move(device)),
      memory_(memory),
      interrupt_(interrupt),
      queue_registers_(device_->queue_count()) {}

VirtioMmioTransport::~VirtioMmioTransport() {
  // The device's callbacks point at this transport: make it drop them.
  std::lock_guard lock(mutex_);
  if (active_.load()) device_->reset();
}

uint32_t VirtioMmioTransport::status() const {
  std::lock_guard lock(mutex_);
  return status_ | (failed_.load() ? kStatusDeviceNeedsReset : 0);
}

void VirtioMmioTransport::read(uint64_t offset, std::span<uint8_t> data) {
  if (offset >= kConfigOffset) {
    // Prefilled so that whatever the device leaves alone reads as all-ones.
    std::fill(data.begin(), data.end(), 0xff);
    std::lock_guard lock(mutex_);
    device_->read_config(offset - kConfigOffset, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) {
    std::fill(data.begin(), data.end(), 0xff);
    return;
  }
  uint32_t value;
  {
    std::lock_guard lock(mutex_);
    value = read_register(offset);
  }
  std::memcpy(data.data(), &value, sizeof value);
}

void VirtioMmioTransport::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= kConfigOffset) {
    std::lock_guard lock(mutex_);
    device_->write_config(offset - kConfigOffset, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value;
  std::memcpy(&value, data.data(), sizeof value);
  if (offset == kQueueNotifyOffset) {
    // Outside the lock, like the ioeventfd path.
    if (value <= 0xffff) queue_notified(static_cast<uint16_t>(value));
    return;
  }
  std::lock_guard lock(mutex_);
  write_register(offset, value);
}

void VirtioMmioTransport::notify_all_queues() {
  for (uint16_t index = 0; index < device_->queue_count(); ++index) queue_notified(index);
}

void VirtioMmioTransport::queue_notified(uint16_t index) {
  // A reset can slip in between this check and the call; the device then ignores the notify
  // because it has dropped its activation (VirtioDevice::reset's contract).
  if (!active_.load(std::memory_order_acquire) || failed_.load(std::memory_order_acquire)) return;
  if (index >= device_->queue_count()) return;
  device_->queue_notified(index);
}

VirtioMmioTransport::QueueRegisters* VirtioMmioTransport::selected_queue() {
  return queue_sel_ < queue_registers_.size() ? &queue_registers_[queue_sel_] : nullptr;
}

const VirtioMmioTransport::QueueRegisters* VirtioMmioTransport::selected_queue() const {
  return queue_sel_ < queue_registers_.size() ? &queue_registers_[queue_sel_] : nullptr;
}

uint64_t VirtioMmioTransport::offered_features() const {
  return device_->device_features() | kFeatureVersion1;
}

uint32_t VirtioMmioTransport::read_register(uint64_t offset) const {
  const QueueRegisters* queue = selected_queue();
  switch (offset) {
    case kMagicValueOffset: return kMagicValue;
    case kVersionOffset: return kVersion;
    case kDeviceIdOffset: return device_->device_type();
    case kVendorIdOffset: return kVendorId;
    case kDeviceFeaturesOffset:
      if (device_features_sel_ > 1) return 0;
      return static_cast<uint32_t>(offered_features() >> (32 * device_features_sel_));
    case kQueueNumMaxOffset:
      // 0: the selected queue does not exist.
      return queue ? device_->queue_max_size() : 0;
    case kQueueReadyOffset: return queue && queue->ready ? 1 : 0;
    case kInterruptStatusOffset: return interrupt_status_.load();
    case kStatusOffset: return status_ | (failed_.load() ? kStatusDeviceNeedsReset : 0);
    // The config space never changes under the driver's feet.
    case kConfigGenerationOffset: return 0;
    default: return 0xffffffff;
  }
}

void VirtioMmioTransport::write_register(uint64_t offset, uint32_t value) {
  switch (offset) {
    case kDeviceFeaturesSelOffset: device_features_sel_ = value; return;
    case kDriverFeaturesSelOffset: driver_features_sel_ = value; return;
    case kDriverFeaturesOffset:
      // Features are fixed once FEATURES_OK is set.
      if (status_ & kStatusFeaturesOk) return;
      if (driver_features_sel_ == 0) driver_features_ = with_low_half(driver_features_, value);
      if (driver_features_sel_ == 1) driver_features_ = with_high_half(driver_features_, value);
      return;
    case kQueueSelOffset: queue_sel_ = value; return;
    case kInterruptAckOffset: interrupt_status_.fetch_and(~value); return;
    case kStatusOffset: write_status(value); return;
    default: break;
  }

  // Queue configuration: only before DRIVER_OK, and only while the queue is not ready (the
  // driver must not change a live queue; spec 4.2.2.3).
  QueueRegisters* queue = selected_queue();
  if (!queue || (status_ & kStatusDriverOk)) return;
  if (offset == kQueueReadyOffset) {
    queue->ready = value == 1;
    return;
  }
  if (queue->ready) return;
  switch (offset) {
    case kQueueNumOffset: queue->size = value; return;
    case kQueueDescLowOffset:
      queue->descriptor_table = with_low_half(queue->descriptor_table, value);
      return;
    case kQueueDescHighOffset:
      queue->descriptor_table = with_high_half(queue->descriptor_table, value);
      return;
    case kQueueDriverLowOffset:
      queue->driver_area = with_low_half(queue->driver_area, value);
      return;
    case kQueueDriverHighOffset:
      queue->driver_area = with_high_half(queue->driver_area, value);
      return;
    case kQueueDeviceLowOffset:
      queue->device_area = with_low_half(queue->device_area, value);
      return;
    case kQueueDeviceHighOffset:
      queue->device_area = with_high_half(queue->device_area, value);
      return;
    default: return;
  }
}

void VirtioMmioTransport::write_status(uint32_t value) {
  if (value == 0) {
    reset_locked();
    return;
  }
  // DEVICE_NEEDS_RESET is the device's to set; unknown bits are dropped.
  uint32_t requested = value & kDriverStatusBits;
  // The driver only ever adds bits (spec 2.1.2); a write that clears one is ignored.
  if ((requested & status_) != status_) return;
  uint32_t added = requested & ~status_;

  if (added & kStatusFeaturesOk) {
    bool subset = (driver_features_ & ~offered_features()) == 0;
    bool modern = driver_features_ & kFeatureVersion1;
    // Refused by leaving the bit clear: the driver reads it back and gives up (spec 3.1.1).
    if (!subset || !modern) requested &= ~kStatusFeaturesOk;
  }
  if ((added & kStatusDriverOk) && !(requested & kStatusFeaturesOk)) requested &= ~kStatusDriverOk;
  status_ = requested;
  if (added & requested & kStatusDriverOk) activate_locked();
}

void VirtioMmioTransport::activate_locked() {
  if (failed_.load()) return;
  std::vector<Virtqueue> queues(queue_registers_.size());
  for (size_t i = 0; i < queue_registers_.size(); ++i) {
    const QueueRegisters& registers = queue_registers_[i];
    if (!registers.ready) continue;
    if (registers.size > device_->queue_max_size()) {
      fail(Error::invalid("queue " + std::to_string(i) + " size " +
                          std::to_string(registers.size) + " is above its maximum " +
                          std::to_string(device_->queue_max_size())));
      return;
    }
    VirtqueueConfig config{.size = static_cast<uint16_t>(registers.size),
                           .descriptor_table = registers.descriptor_table,
                           .driver_area = registers.driver_area,
                           .device_area = registers.device_area,
                           .ready = true};
    auto queue = Virtqueue::create(memory_, config);
    if (!queue) {
      fail(Error(queue.error()).with_context("queue " + std::to_string(i)));
      return;
    }
    queues[i] = std::move(*queue);
  }
  queues_ = std::move(queues);

  VirtioActivation activation{
      .memory = &memory_,
      .queues = std::span<Virtqueue>(queues_),
      .signal_used = [this] { signal_used(); },
      .fail = [this](const Error& error) { fail(error); },
  };
  auto activated = device_->activate(driver_features_, std::move(activation));
  if (!activated) {
    fail(activated.error());
    // The device may hold part of the activation: make it drop it before queues_ can change.
    device_->reset();
    return;
  }
  active_.store(true, std::memory_order_release);
}

void VirtioMmioTransport::reset_locked() {
  // Always: the device drops any activation and waits out a queue_notified in progress, so
  // no callback and no access to queues_ happens after this.
  active_.store(false, std::memory_order_release);
  device_->reset();
  queues_.clear();
  status_ = 0;
  device_features_sel_ = 0;
  driver_features_sel_ = 0;
  driver_features_ = 0;
  queue_sel_ = 0;
  std::fill(queue_registers_.begin(), queue_registers_.end(), QueueRegisters{});
  interrupt_status_.store(0);
  failed_.store(false, std::memory_order_release);
}

void VirtioMmioTransport::signal_used() {
  interrupt_status_.fetch_or(kInterruptUsedBuffer);
  interrupt_.trigger();
}

void VirtioMmioTransport::fail(const Error& error) {
  if (failed_.exchange(true)) return;  // once per reset
  log::warning(std::string(device_name(device_->device_type())) + ": " + error.message() +
               "; the device needs a reset");
  interrupt_status_.fetch_or(kInterruptConfigChange);
  interrupt_.trigger();
}

}  // namespace podrt::vmm
