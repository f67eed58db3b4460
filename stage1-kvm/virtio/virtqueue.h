// Virtqueue: the device side of one virtio 1.x split virtqueue (virtio spec 2.7) in guest memory.
// Everything in the rings is written by the guest and may be hostile: every address and length
// goes through GuestMemory's checks, a chain longer than the queue (a loop) or with an index out
// of range is an error, an avail index more than the queue size ahead is an error. Errors are
// returned, never acted on here: the device fails, the VMM goes on.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm {

/// One buffer of a descriptor chain, already checked to lie inside guest memory.
struct DescriptorBuffer {
  uint64_t address = 0;
  uint32_t length = 0;
  bool device_writable = false;
};

/// A chain popped from the avail ring: the readable buffers come first, then the writable ones
/// (the spec's order; a chain that breaks it is refused).
struct DescriptorChain {
  uint16_t head = 0;
  std::vector<DescriptorBuffer> buffers;
  uint64_t readable_bytes() const;
  uint64_t writable_bytes() const;
};

/// The queue's registers as the transport collects them from the driver.
struct VirtqueueConfig {
  uint16_t size = 0;  ///< a power of two, 1..32768
  uint64_t descriptor_table = 0;
  uint64_t driver_area = 0;  ///< the avail ring
  uint64_t device_area = 0;  ///< the used ring
  bool ready = false;
};

class Virtqueue {
 public:
  Virtqueue() = default;
  /// Checks the config (size, alignment, every ring inside `memory`).
  static Result<Virtqueue> create(const GuestMemory& memory, const VirtqueueConfig& config);

  bool ready() const { return memory_ != nullptr; }
  uint16_t size() const { return size_; }

  /// The next available chain, or nullopt when the driver has posted nothing new.
  Result<std::optional<DescriptorChain>> pop();
  /// Gives a chain back to the driver with `written` bytes written into its writable buffers.
  Result<void> push_used(uint16_t head, uint32_t written);
  /// Whether the driver asked not to be interrupted (VRING_AVAIL_F_NO_INTERRUPT).
  bool interrupt_suppressed() const;

  /// Copies the chain's readable bytes, from `offset` on, into `out`; returns the count copied.
  Result<uint64_t> read_from(const DescriptorChain& chain, uint64_t offset, std::span<uint8_t> out) const;
  /// Copies `data` into the chain's writable buffers from `offset` on; returns the count copied
  /// (less than data.size() when the buffers are too small).
  Result<uint64_t> write_to(const DescriptorChain& chain, uint64_t offset, std::span<const uint8_t> data) const;

 private:
  const GuestMemory* memory_ = nullptr;
  uint16_t size_ = 0;
  uint64_t descriptor_table_ = 0;
  uint64_t avail_ring_ = 0;
  uint64_t used_ring_ = 0;
  uint16_t next_avail_ = 0;  ///< the next avail ring index the device will read
  uint16_t next_used_ = 0;
};

}  // namespace podrt::vmm
