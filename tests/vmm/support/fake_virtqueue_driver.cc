#include "tests/vmm/support/fake_virtqueue_driver.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace podrt::vmm::testing {
namespace {

[[noreturn]] void test_bug(const char* what) {
  std::fprintf(stderr, "FakeVirtqueueDriver: %s\n", what);
  std::abort();
}

template <class T>
T checked(Result<T> result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "FakeVirtqueueDriver: %s: %s\n", what, result.error().message().c_str());
    std::abort();
  }
  return std::move(result).value();
}

void checked(Result<void> result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "FakeVirtqueueDriver: %s: %s\n", what, result.error().message().c_str());
    std::abort();
  }
}

uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

FakeVirtqueueDriver::FakeVirtqueueDriver(const GuestMemory& memory, uint16_t size,
                                         uint64_t ring_address)
    : memory_(memory), size_(size), chain_descriptors_(size) {
  if (size == 0 || (size & (size - 1)) != 0) test_bug("queue size is not a power of two");
  if (ring_address % 16 != 0) test_bug("ring address is not 16-aligned");
  descriptor_table_ = ring_address;
  avail_ring_ = descriptor_table_ + 16ull * size;
  // flags, idx, ring[size], used_event
  used_ring_ = align_up(avail_ring_ + 6 + 2ull * size, 4);
  // flags, idx, ring[size] of 8-byte elements, avail_event
  rings_end_ = used_ring_ + 6 + 8ull * size;
  next_free_byte_ = rings_end_;
  if (!memory.contains(ring_address, rings_end_ - ring_address)) test_bug("rings do not fit");
  std::vector<uint8_t> zeros(rings_end_ - ring_address, 0);
  checked(memory.write(ring_address, zeros), "zero the rings");
  // Hand out low indexes first, like a fresh Linux ring.
  for (uint16_t i = size; i > 0; --i) free_.push_back(static_cast<uint16_t>(i - 1));
}

VirtqueueConfig FakeVirtqueueDriver::config() const {
  return VirtqueueConfig{.size = size_,
                         .descriptor_table = descriptor_table_,
                         .driver_area = avail_ring_,
                         .device_area = used_ring_,
                         .ready = true};
}

uint64_t FakeVirtqueueDriver::allocate(uint64_t length, uint64_t alignment) {
  uint64_t address = align_up(next_free_byte_, alignment);
  if (!memory_.contains(address, length)) test_bug("data area is full");
  next_free_byte_ = address + length;
  return address;
}

uint16_t FakeVirtqueueDriver::add_chain(std::span<const FakeBuffer> buffers, bool publish_now) {
  if (buffers.empty()) test_bug("empty chain");
  if (buffers.size() > free_.size()) test_bug("not enough free descriptors");
  std::vector<uint16_t> indexes;
  for (size_t i = 0; i < buffers.size(); ++i) {
    indexes.push_back(free_.back());
    free_.pop_back();
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    bool last = i + 1 == buffers.size();
    RawDescriptor descriptor{
        .address = buffers[i].address,
        .length = buffers[i].length,
        .flags = static_cast<uint16_t>((buffers[i].writable ? kDescriptorWrite : 0) |
                                       (last ? 0 : kDescriptorNext)),
        .next = last ? uint16_t{0} : indexes[i + 1]};
    write_descriptor(indexes[i], descriptor);
  }
  uint16_t head = indexes.front();
  chain_descriptors_[head] = std::move(indexes);
  write_avail_entry(next_avail_, head);
  ++next_avail_;
  if (publish_now) publish();
  return head;
}

void FakeVirtqueueDriver::publish() { set_avail_idx(next_avail_); }

uint16_t FakeVirtqueueDriver::used_idx() const {
  return checked(memory_.load_acquire<uint16_t>(used_ring_ + 2), "read used idx");
}

UsedElement FakeVirtqueueDriver::used_element(uint16_t position) const {
  return checked(memory_.read_object<UsedElement>(used_ring_ + 4 + 8ull * (position % size_)),
                 "read used element");
}

std::optional<UsedElement> FakeVirtqueueDriver::take_used() {
  if (used_idx() == last_used_) return std::nullopt;
  UsedElement element = used_element(last_used_);
  ++last_used_;
  if (element.id < size_) {
    auto& descriptors = chain_descriptors_[element.id];
    free_.insert(free_.end(), descriptors.begin(), descriptors.end());
    descriptors.clear();
  }
  return element;
}

void FakeVirtqueueDriver::write_descriptor(uint16_t index, const RawDescriptor& descriptor) {
  static_assert(sizeof(RawDescriptor) == 16);
  if (index >= size_) test_bug("descriptor index out of range");
  checked(memory_.write_object(descriptor_table_ + 16ull * index, descriptor), "write descriptor");
}

void FakeVirtqueueDriver::write_avail_entry(uint16_t position, uint16_t head) {
  checked(memory_.write_object(avail_ring_ + 4 + 2ull * (position % size_), head),
          "write avail entry");
}

void FakeVirtqueueDriver::set_avail_idx(uint16_t idx) {
  checked(memory_.store_release<uint16_t>(avail_ring_ + 2, idx), "write avail idx");
}

uint16_t FakeVirtqueueDriver::avail_idx() const {
  return checked(memory_.load_acquire<uint16_t>(avail_ring_ + 2), "read avail idx");
}

void FakeVirtqueueDriver::set_avail_flags(uint16_t flags) {
  checked(memory_.write_object(avail_ring_, flags), "write avail flags");
}

void FakeVirtqueueDriver::post_raw_head(uint16_t head) {
  write_avail_entry(next_avail_, head);
  ++next_avail_;
  publish();
}

}  // namespace podrt::vmm::testing
