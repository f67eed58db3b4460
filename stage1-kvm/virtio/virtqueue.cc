// The split ring's device side. Layout (virtio spec 2.7):
//   descriptor table  size x {le64 addr, le32 len, le16 flags, le16 next}     16-aligned
//   avail ring        le16 flags, le16 idx, le16 ring[size], le16 used_event   2-aligned
//   used ring         le16 flags, le16 idx, {le32 id, le32 len}[size], le16 avail_event  4-aligned
// x86 is little-endian, so the fields are read as host integers.
//
// Every field is re-read from guest memory into a local copy once and checked there: the guest
// can change the rings at any time, so nothing is trusted across two reads. Buffers that overlap
// each other, or the rings, are the guest's own problem: the host only touches guest memory
// through GuestMemory's checked copies, so the worst a guest gets is its own data scrambled.
#include "stage1-kvm/memory/hex.h"
#include "stage1-kvm/virtio/virtqueue.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>

namespace podrt::vmm {
namespace {

constexpr uint16_t kDescriptorNext = 1;      // VIRTQ_DESC_F_NEXT
constexpr uint16_t kDescriptorWrite = 2;     // VIRTQ_DESC_F_WRITE
constexpr uint16_t kDescriptorIndirect = 4;  // VIRTQ_DESC_F_INDIRECT
constexpr uint16_t kAvailNoInterrupt = 1;    // VRING_AVAIL_F_NO_INTERRUPT
constexpr uint16_t kMaxQueueSize = 32768;
/// No request the devices serve needs more; it also keeps every count within 32 bits.
constexpr uint64_t kMaxChainBytes = 1ull << 32;

struct RingDescriptor {
  uint64_t address;
  uint32_t length;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(RingDescriptor) == 16);

struct UsedElement {
  uint32_t id;
  uint32_t length;
};
static_assert(sizeof(UsedElement) == 8);

uint64_t descriptor_table_bytes(uint16_t size) { return 16ull * size; }
uint64_t avail_ring_bytes(uint16_t size) { return 6 + 2ull * size; }
uint64_t used_ring_bytes(uint16_t size) { return 6 + 8ull * size; }

Error ring_outside_memory(const char* ring, uint64_t address, uint64_t length) {
  return Error::invalid(std::string("virtqueue ") + ring + " at " + hex(address) + "+" +
                        hex(length) + " is outside guest memory");
}

}  // namespace

uint64_t DescriptorChain::readable_bytes() const {
  uint64_t total = 0;
  for (const auto& buffer : buffers)
    if (!buffer.device_writable) total += buffer.length;
  return total;
}

uint64_t DescriptorChain::writable_bytes() const {
  uint64_t total = 0;
  for (const auto& buffer : buffers)
    if (buffer.device_writable) total += buffer.length;
  return total;
}

Result<Virtqueue> Virtqueue::create(const GuestMemory& memory, const VirtqueueConfig& config) {
  uint16_t size = config.size;
  if (size == 0 || size > kMaxQueueSize || (size & (size - 1)) != 0)
    return Error::invalid("virtqueue size " + std::to_string(size) +
                          " is not a power of two from 1 to 32768");
  if (config.descriptor_table % 16 != 0)
    return Error::invalid("virtqueue descriptor table " + hex(config.descriptor_table) +
                          " is not 16-byte aligned");
  if (config.driver_area % 2 != 0)
    return Error::invalid("virtqueue avail ring " + hex(config.driver_area) +
                          " is not 2-byte aligned");
  if (config.device_area % 4 != 0)
    return Error::invalid("virtqueue used ring " + hex(config.device_area) +
                          " is not 4-byte aligned");
  if (!memory.contains(config.descriptor_table, descriptor_table_bytes(size)))
    return ring_outside_memory("descriptor table", config.descriptor_table,
                               descriptor_table_bytes(size));
  if (!memory.contains(config.driver_area, avail_ring_bytes(size)))
    return ring_outside_memory("avail ring", config.driver_area, avail_ring_bytes(size));
  if (!memory.contains(config.device_area, used_ring_bytes(size)))
    return ring_outside_memory("used ring", config.device_area, used_ring_bytes(size));

  Virtqueue queue;
  queue.memory_ = &memory;
  queue.size_ = size;
  queue.descriptor_table_ = config.descriptor_table;
  queue.avail_ring_ = config.driver_area;
  queue.used_ring_ = config.device_area;
  return queue;
}

Result<std::optional<DescriptorChain>> Virtqueue::pop() {
  if (!ready()) return Error::invalid("virtqueue is not set up");
  // Acquire: the ring entry and descriptors the driver wrote before bumping idx are visible.
  uint16_t avail_idx = PODRT_TRY(memory_->load_acquire<uint16_t>(avail_ring_ + 2));
  uint16_t pending = static_cast<uint16_t>(avail_idx - next_avail_);
  if (pending == 0) return std::optional<DescriptorChain>();
  if (pending > size_)
    return Error::invalid("virtqueue avail index jumped from " + std::to_string(next_avail_) +
                          " to " + std::to_string(avail_idx) + " (queue size " +
                          std::to_string(size_) + ")");

  uint64_t slot = avail_ring_ + 4 + 2ull * (next_avail_ % size_);
  uint16_t head = PODRT_TRY(memory_->read_object<uint16_t>(slot));

  DescriptorChain chain;
  chain.head = head;
  uint16_t index = head;
  uint64_t total = 0;
  bool seen_writable = false;
  // At most `size` descriptors: a longer chain revisits one, i.e. loops.
  for (uint32_t count = 0;; ++count) {
    if (index >= size_)
      return Error::invalid("virtqueue descriptor index " + std::to_string(index) +
                            " is out of range (queue size " + std::to_string(size_) + ")");
    if (count == size_)
      return Error::invalid("virtqueue descriptor chain from " + std::to_string(head) +
                            " is longer than the queue (a loop)");
    auto descriptor = PODRT_TRY(
        memory_->read_object<RingDescriptor>(descriptor_table_ + 16ull * index));
    if (descriptor.flags & kDescriptorIndirect)
      return Error::invalid("virtqueue descriptor " + std::to_string(index) +
                            " is indirect, which was not negotiated");
    bool writable = descriptor.flags & kDescriptorWrite;
    if (seen_writable && !writable)
      return Error::invalid("virtqueue descriptor " + std::to_string(index) +
                            " is readable after a writable one");
    seen_writable = seen_writable || writable;
    if (!memory_->contains(descriptor.address, descriptor.length))
      return Error::invalid("virtqueue descriptor " + std::to_string(index) + " buffer " +
                            hex(descriptor.address) + "+" + hex(descriptor.length) +
                            " is outside guest memory");
    total += descriptor.length;
    if (total > kMaxChainBytes)
      return Error::invalid("virtqueue descriptor chain from " + std::to_string(head) +
                            " is longer than 4 GiB");
    chain.buffers.push_back(
        {.address = descriptor.address, .length = descriptor.length, .device_writable = writable});
    if (!(descriptor.flags & kDescriptorNext)) break;
    index = descriptor.next;
  }
  ++next_avail_;
  return std::optional<DescriptorChain>(std::move(chain));
}

Result<void> Virtqueue::push_used(uint16_t head, uint32_t written) {
  if (!ready()) return Error::invalid("virtqueue is not set up");
  if (head >= size_)
    return Error::invalid("virtqueue used head " + std::to_string(head) + " is out of range");
  uint64_t slot = used_ring_ + 4 + 8ull * (next_used_ % size_);
  PODRT_TRY(memory_->write_object(slot, UsedElement{.id = head, .length = written}));
  ++next_used_;
  // Release: the element is visible before the driver sees the new idx.
  return memory_->store_release<uint16_t>(used_ring_ + 2, next_used_);
}

bool Virtqueue::interrupt_suppressed() const {
  if (!ready()) return false;
  // The used idx store must be ordered before the flags load, or the device could read a stale
  // NO_INTERRUPT while the driver, having re-enabled interrupts, found no new used entry.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto flags = memory_->load_acquire<uint16_t>(avail_ring_);
  return flags && (*flags & kAvailNoInterrupt);
}

Result<uint64_t> Virtqueue::read_from(const DescriptorChain& chain, uint64_t offset,
                                      std::span<uint8_t> out) const {
  if (!ready()) return Error::invalid("virtqueue is not set up");
  uint64_t copied = 0;
  for (const auto& buffer : chain.buffers) {
    if (copied == out.size()) break;
    if (buffer.device_writable) break;  // readable buffers come first
    if (offset >= buffer.length) {
      offset -= buffer.length;
      continue;
    }
    uint64_t count = std::min<uint64_t>(buffer.length - offset, out.size() - copied);
    PODRT_TRY(memory_->read(buffer.address + offset, out.subspan(copied, count)));
    copied += count;
    offset = 0;
  }
  return copied;
}

Result<uint64_t> Virtqueue::write_to(const DescriptorChain& chain, uint64_t offset,
                                     std::span<const uint8_t> data) const {
  if (!ready()) return Error::invalid("virtqueue is not set up");
  uint64_t copied = 0;
  for (const auto& buffer : chain.buffers) {
    if (copied == data.size()) break;
    if (!buffer.device_writable) continue;
    if (offset >= buffer.length) {
      offset -= buffer.length;
      continue;
    }
    uint64_t count = std::min<uint64_t>(buffer.length - offset, data.size() - copied);
    PODRT_TRY(memory_->write(buffer.address + offset, data.subspan(copied, count)));
    copied += count;
    offset = 0;
  }
  return copied;
}

}  // namespace podrt::vmm
