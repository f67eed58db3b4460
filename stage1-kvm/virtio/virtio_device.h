// VirtioDevice: one virtio device model (console, block, net) behind a transport (virtio-mmio
// here). The transport owns the registers, feature negotiation and the queues' addresses; the
// device owns what the queues carry. Virtio 1.x only (VIRTIO_F_VERSION_1 is always offered and
// must be accepted).
//
// Threads: activate/reset/read_config/write_config come from vCPU threads (MMIO exits),
// queue_notified from the event loop (a queue's ioeventfd) or a vCPU thread; a device locks what
// they share. The transport calls activate/reset/read_config/write_config with its own lock held
// (order: transport -> device); signal_used and fail take no lock, so a device may call them
// with its own lock held. A device that finds the guest's rings broken reports it with fail(): the transport
// sets DEVICE_NEEDS_RESET and the device processes nothing more until the guest resets it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/virtio/virtqueue.h"

namespace podrt::vmm {

/// What an active device is given by its transport.
struct VirtioActivation {
  const GuestMemory* memory = nullptr;
  /// The negotiated queues, index = queue number; valid until reset().
  std::span<Virtqueue> queues;
  /// Raises the used-buffer interrupt (sets INTERRUPT_STATUS bit 0 and triggers the line).
  /// Unconditional: the device asks Virtqueue::interrupt_suppressed() first.
  std::function<void()> signal_used;
  /// The guest broke the device's rules (a bad descriptor chain, say): logged once, the device
  /// is marked DEVICE_NEEDS_RESET and must process nothing more.
  std::function<void(const Error&)> fail;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  /// Virtio device ID: 1 net, 2 block, 3 console.
  virtual uint32_t device_type() const = 0;
  virtual uint16_t queue_count() const = 0;
  virtual uint16_t queue_max_size() const { return 256; }
  /// The device-specific feature bits (the transport adds VIRTIO_F_VERSION_1).
  virtual uint64_t device_features() const = 0;
  /// Device configuration space (offset 0x100 of the mmio region onwards).
  virtual void read_config(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write_config(uint64_t /*offset*/, std::span<const uint8_t> /*data*/) {}

  /// The driver set DRIVER_OK: start processing with the negotiated features. An error fails
  /// the device (DEVICE_NEEDS_RESET) and the transport calls reset() at once.
  virtual Result<void> activate(uint64_t negotiated_features, VirtioActivation activation) = 0;
  /// The guest notified queue `index` (a QueueNotify write). May arrive, late, after reset():
  /// a device without an activation ignores it.
  virtual void queue_notified(uint16_t index) = 0;
  /// The driver reset the device (status 0): drop the activation, keep the host resources.
  /// Comes on every status-0 write, also before any activate(). Must not return while the
  /// device is still using the activation (hold the device's lock across queue processing):
  /// afterwards the transport frees the queues and the callbacks may no longer be called.
  virtual void reset() = 0;
  /// Output the guest has handed over (in a virtqueue) but that has not reached the host yet.
  /// A guest may write its last words and reset at once: the VMM delivers these before it exits.
  virtual bool output_pending() const { return false; }
};

}  // namespace podrt::vmm
