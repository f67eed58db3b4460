// VirtioMmioTransport: the virtio-mmio register block (virtio spec 4.2.2, version 2, "modern")
// in front of one VirtioDevice. The VMM maps it at layout::kVirtioMmioBase + i *
// layout::kVirtioMmioSize and tells Linux with "virtio_mmio.device=4K@<base>:<irq>".
//
// It negotiates features (VIRTIO_F_VERSION_1 is required), collects each queue's size and ring
// addresses, and on DRIVER_OK builds the Virtqueues and activates the device; a status write of
// 0 resets both. Queue notifications reach the device through queue_notified(), from a
// QueueNotify write or from an ioeventfd the VMM registers at kQueueNotifyOffset (datamatch =
// queue index) so a notify costs no MMIO exit to user space.
//
// Locking: one mutex guards the registers. The transport calls the device (read_config,
// write_config, activate, reset) with it held, so the order is transport -> device. The callbacks
// the device gets (signal_used, fail) take no lock at all (atomics), so a device may call them
// while holding its own lock. queue_notified() calls the device without the transport's lock:
// a notify never waits behind another vCPU's register access.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "stage1-kvm/bus/bus_device.h"
#include "stage1-kvm/devices/interrupt_line.h"
#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/virtio/virtio_device.h"
#include "stage1-kvm/virtio/virtqueue.h"

namespace podrt::vmm {

class VirtioMmioTransport final : public BusDevice {
 public:
  static constexpr uint32_t kMagicValue = 0x74726976;  ///< "virt"
  static constexpr uint32_t kVersion = 2;
  static constexpr uint32_t kVendorId = 0x706f6472;  ///< "podr"
  static constexpr uint64_t kFeatureVersion1 = 1ull << 32;  ///< VIRTIO_F_VERSION_1

  // Register offsets (spec 4.2.2).
  static constexpr uint64_t kMagicValueOffset = 0x000;
  static constexpr uint64_t kVersionOffset = 0x004;
  static constexpr uint64_t kDeviceIdOffset = 0x008;
  static constexpr uint64_t kVendorIdOffset = 0x00c;
  static constexpr uint64_t kDeviceFeaturesOffset = 0x010;
  static constexpr uint64_t kDeviceFeaturesSelOffset = 0x014;
  static constexpr uint64_t kDriverFeaturesOffset = 0x020;
  static constexpr uint64_t kDriverFeaturesSelOffset = 0x024;
  static constexpr uint64_t kQueueSelOffset = 0x030;
  static constexpr uint64_t kQueueNumMaxOffset = 0x034;
  static constexpr uint64_t kQueueNumOffset = 0x038;
  static constexpr uint64_t kQueueReadyOffset = 0x044;
  static constexpr uint64_t kQueueNotifyOffset = 0x050;
  static constexpr uint64_t kInterruptStatusOffset = 0x060;
  static constexpr uint64_t kInterruptAckOffset = 0x064;
  static constexpr uint64_t kStatusOffset = 0x070;
  static constexpr uint64_t kQueueDescLowOffset = 0x080;
  static constexpr uint64_t kQueueDescHighOffset = 0x084;
  static constexpr uint64_t kQueueDriverLowOffset = 0x090;
  static constexpr uint64_t kQueueDriverHighOffset = 0x094;
  static constexpr uint64_t kQueueDeviceLowOffset = 0x0a0;
  static constexpr uint64_t kQueueDeviceHighOffset = 0x0a4;
  static constexpr uint64_t kConfigGenerationOffset = 0x0fc;
  static constexpr uint64_t kConfigOffset = 0x100;

  // Device status bits (spec 2.1).
  static constexpr uint32_t kStatusAcknowledge = 1;
  static constexpr uint32_t kStatusDriver = 2;
  static constexpr uint32_t kStatusDriverOk = 4;
  static constexpr uint32_t kStatusFeaturesOk = 8;
  static constexpr uint32_t kStatusDeviceNeedsReset = 0x40;
  static constexpr uint32_t kStatusFailed = 0x80;

  // InterruptStatus bits.
  static constexpr uint32_t kInterruptUsedBuffer = 1;
  static constexpr uint32_t kInterruptConfigChange = 2;

  /// `memory` and `interrupt` must outlive the transport.
  VirtioMmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& memory,
                      InterruptLine& interrupt);
  VirtioMmioTransport(const VirtioMmioTransport&) = delete;
  VirtioMmioTransport& operator=(const VirtioMmioTransport&) = delete;
  ~VirtioMmioTransport() override;

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  /// The guest notified queue `index`: passed to the device while it is active and not failed;
  /// ignored otherwise. Safe from any thread (the event loop's ioeventfd handler, a vCPU).
  void queue_notified(uint16_t index);

  VirtioDevice& device() const { return *device_; }
  /// Processes every queue as if the guest had just notified it (the VMM's last round).
  void notify_all_queues();
  /// The device status register as the driver reads it.
  uint32_t status() const;
  /// Whether the device failed (DEVICE_NEEDS_RESET) since the last reset.
  bool failed() const { return failed_.load(std::memory_order_acquire); }

 private:
  struct QueueRegisters {
    uint32_t size = 0;
    bool ready = false;
    uint64_t descriptor_table = 0;
    uint64_t driver_area = 0;
    uint64_t device_area = 0;
  };

  uint32_t read_register(uint64_t offset) const;
  void write_register(uint64_t offset, uint32_t value);
  void write_status(uint32_t value);
  void activate_locked();
  void reset_locked();
  QueueRegisters* selected_queue();
  const QueueRegisters* selected_queue() const;
  uint64_t offered_features() const;
  /// The activation's callbacks: lock-free, callable from inside the device.
  void signal_used();
  void fail(const Error& error);

  std::shared_ptr<VirtioDevice> device_;
  const GuestMemory& memory_;
  InterruptLine& interrupt_;

  mutable std::mutex mutex_;
  uint32_t status_ = 0;  ///< what the driver set; DEVICE_NEEDS_RESET lives in failed_
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  std::vector<QueueRegisters> queue_registers_;
  /// The live queues handed to the device at DRIVER_OK; replaced only after device reset().
  std::vector<Virtqueue> queues_;

  std::atomic<bool> active_{false};  ///< DRIVER_OK done and the device activated
  std::atomic<bool> failed_{false};
  std::atomic<uint32_t> interrupt_status_{0};
};

}  // namespace podrt::vmm
