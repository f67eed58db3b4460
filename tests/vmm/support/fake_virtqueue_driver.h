// FakeVirtqueueDriver: the guest's side of one split virtqueue (virtio spec 2.7), for tests of
// the device side. It lays out the descriptor table, the avail ring and the used ring in a
// GuestMemory, posts chains of buffers the way Linux's virtio_ring does, and reads back what the
// device put in the used ring. It can also write raw, hostile ring contents.
//
// Typical use:
//   auto memory = GuestMemory::allocate(1 << 20).value();
//   FakeVirtqueueDriver driver(memory, 16);                  // rings at kDefaultRingAddress
//   auto queue = Virtqueue::create(memory, driver.config()).value();
//   uint64_t data = driver.allocate(512);                   // guest buffer for the payload
//   uint16_t head = driver.add_chain({{data, 512, /*writable=*/false}});
//   ... the device pops and pushes ...
//   auto used = driver.take_used();                         // {id = head, length = written}
//
// Not thread-safe; precondition violations (no free descriptors, data area full) abort with a
// message, since they are bugs in the test, not guest behaviour under test.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/virtio/virtqueue.h"

namespace podrt::vmm::testing {

/// One buffer of a chain as the driver posts it.
struct FakeBuffer {
  uint64_t address = 0;
  uint32_t length = 0;
  bool writable = false;  ///< VIRTQ_DESC_F_WRITE: the device writes into it
};

/// A descriptor exactly as it lies in the table (struct virtq_desc).
struct RawDescriptor {
  uint64_t address = 0;
  uint32_t length = 0;
  uint16_t flags = 0;
  uint16_t next = 0;
};

/// An entry of the used ring (struct virtq_used_elem).
struct UsedElement {
  uint32_t id = 0;
  uint32_t length = 0;
};

class FakeVirtqueueDriver {
 public:
  static constexpr uint16_t kDescriptorNext = 1;      ///< VIRTQ_DESC_F_NEXT
  static constexpr uint16_t kDescriptorWrite = 2;     ///< VIRTQ_DESC_F_WRITE
  static constexpr uint16_t kDescriptorIndirect = 4;  ///< VIRTQ_DESC_F_INDIRECT
  static constexpr uint16_t kAvailNoInterrupt = 1;    ///< VRING_AVAIL_F_NO_INTERRUPT
  static constexpr uint64_t kDefaultRingAddress = 0x1000;

  /// Lays out a queue of `size` descriptors (a power of two) at `ring_address` (16-aligned):
  /// descriptor table, then the avail ring, then the used ring (4-aligned), all zeroed. The
  /// area after the rings, up to the end of memory, is what allocate() hands out.
  FakeVirtqueueDriver(const GuestMemory& memory, uint16_t size,
                      uint64_t ring_address = kDefaultRingAddress);

  /// What the transport would have collected from the driver (ready = true).
  VirtqueueConfig config() const;
  uint16_t size() const { return size_; }
  uint64_t descriptor_table() const { return descriptor_table_; }
  uint64_t avail_ring() const { return avail_ring_; }
  uint64_t used_ring() const { return used_ring_; }
  /// The first byte after the rings.
  uint64_t rings_end() const { return rings_end_; }

  /// Guest memory for buffers: `length` bytes, `alignment`-aligned, after the rings (a bump
  /// allocator; never freed).
  uint64_t allocate(uint64_t length, uint64_t alignment = 16);

  /// Writes `buffers` into free descriptors linked with NEXT, puts the head into the next avail
  /// ring slot and, unless publish_now is false, makes it visible (release-store of avail idx).
  /// Returns the head descriptor index.
  uint16_t add_chain(std::span<const FakeBuffer> buffers, bool publish_now = true);
  uint16_t add_chain(std::initializer_list<FakeBuffer> buffers, bool publish_now = true) {
    return add_chain(std::span<const FakeBuffer>(buffers.begin(), buffers.size()), publish_now);
  }
  /// Publishes every chain added so far (avail idx = the driver's count of added chains).
  void publish();
  /// How many descriptors are free for add_chain.
  size_t free_descriptors() const { return free_.size(); }

  /// The used ring's idx as the device last released it.
  uint16_t used_idx() const;
  /// The used element at ring position `position` (taken modulo size).
  UsedElement used_element(uint16_t position) const;
  /// The next used element the driver has not taken yet, or nullopt; frees its chain's
  /// descriptors for reuse (when the id names a chain this driver added).
  std::optional<UsedElement> take_used();

  // Hostile or hand-made ring contents. These bypass the descriptor bookkeeping: a test that
  // uses them should not mix them with add_chain on the same descriptors.
  void write_descriptor(uint16_t index, const RawDescriptor& descriptor);
  /// Writes `head` into avail ring slot `position` (taken modulo size).
  void write_avail_entry(uint16_t position, uint16_t head);
  /// Release-stores the avail ring's idx (any value, e.g. one that jumps past the queue size).
  void set_avail_idx(uint16_t idx);
  uint16_t avail_idx() const;
  void set_avail_flags(uint16_t flags);
  /// Posts a chain made of raw descriptors already written: head into the next avail slot, then
  /// publish. For chains that add_chain would refuse to build.
  void post_raw_head(uint16_t head);

 private:
  const GuestMemory& memory_;
  uint16_t size_;
  uint64_t descriptor_table_;
  uint64_t avail_ring_;
  uint64_t used_ring_;
  uint64_t rings_end_;
  uint64_t next_free_byte_;
  uint16_t next_avail_ = 0;  ///< the driver's shadow of avail idx (chains added)
  uint16_t last_used_ = 0;   ///< used entries taken so far
  std::vector<uint16_t> free_;
  std::vector<std::vector<uint16_t>> chain_descriptors_;  ///< per head, the descriptors it used
};

}  // namespace podrt::vmm::testing
