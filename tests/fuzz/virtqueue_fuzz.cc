// Fuzz target for the device side of a split virtqueue (stage1-kvm/virtio/virtqueue.h): whatever
// the guest puts in its rings, pop/push/read_from/write_to give chains that obey the rules or an
// Error, never a crash, a hang or an access outside guest memory (ASan watches the last).
//
// Input: 8 bytes of queue setup, then the guest memory image (64 KiB, from address 0):
//   [0]      log2 of the queue size, modulo 5 (sizes 1..16)
//   [1..2]   descriptor table address, le16
//   [3..4]   avail ring address, le16
//   [5..6]   used ring address, le16
//   [7]      bit i set: ring i's address gets 0xffffffffffff0000 or'ed in (outside memory)
// The device writes into the chains it pops, so a chain whose buffers cover the rings rewrites
// them as the device goes, as a hostile guest could.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/virtio/virtqueue.h"

namespace {

constexpr uint64_t kMemorySize = 64 * 1024;
constexpr size_t kSetupBytes = 8;

uint16_t le16(const uint8_t* bytes) { return static_cast<uint16_t>(bytes[0] | bytes[1] << 8); }

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podrt::vmm;
  if (size < kSetupBytes) return 0;
  static GuestMemory memory = GuestMemory::allocate(kMemorySize).value();
  auto image = memory.slice(0, kMemorySize).value();
  std::memset(image.data(), 0, image.size());
  std::memcpy(image.data(), data + kSetupBytes, std::min<size_t>(size - kSetupBytes, image.size()));

  VirtqueueConfig config;
  config.size = static_cast<uint16_t>(1u << (data[0] % 5));
  config.descriptor_table = le16(data + 1);
  config.driver_area = le16(data + 3);
  config.device_area = le16(data + 5);
  constexpr uint64_t kFar = 0xffffffffffff0000ull;
  if (data[7] & 1) config.descriptor_table |= kFar;
  if (data[7] & 2) config.driver_area |= kFar;
  if (data[7] & 4) config.device_area |= kFar;
  config.ready = true;

  auto queue = Virtqueue::create(memory, config);
  if (!queue) return 0;

  // Each pop consumes an avail entry and at most `size` can be pending, but the device's own
  // writes may rewrite avail idx: bound the loop anyway.
  for (int round = 0; round < 4 * 16; ++round) {
    auto popped = queue->pop();
    if (!popped || !*popped) break;
    const DescriptorChain& chain = **popped;
    check(chain.head < queue->size());
    check(!chain.buffers.empty() && chain.buffers.size() <= queue->size());
    bool seen_writable = false;
    for (const auto& buffer : chain.buffers) {
      check(memory.contains(buffer.address, buffer.length));
      check(!(seen_writable && !buffer.device_writable));
      seen_writable = seen_writable || buffer.device_writable;
    }
    check(chain.readable_bytes() + chain.writable_bytes() <= (1ull << 32));

    uint8_t bytes[64];
    auto read = queue->read_from(chain, 1, bytes);
    check(read.has_value() && *read <= sizeof bytes);
    auto written = queue->write_to(chain, 0, std::span<const uint8_t>(bytes, *read));
    check(written.has_value() && *written <= *read);
    if (!queue->push_used(chain.head, static_cast<uint32_t>(*written))) break;
    (void)queue->interrupt_suppressed();
  }
  return 0;
}
