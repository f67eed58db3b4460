#include "stage1-kvm/virtio/virtqueue.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "tests/vmm/support/fake_virtqueue_driver.h"

namespace podrt::vmm {
namespace {

using testing::FakeBuffer;
using testing::FakeVirtqueueDriver;
using testing::RawDescriptor;

constexpr uint64_t kMemorySize = 1 << 20;

class VirtqueueTest : public ::testing::Test {
 protected:
  void SetUp() override { make_queue(16); }

  void make_queue(uint16_t size) {
    driver_.reset();
    driver_.emplace(memory_, size);
    auto created = Virtqueue::create(memory_, driver_->config());
    ASSERT_TRUE(created) << created.error().message();
    queue_ = std::move(*created);
  }

  /// pop() must fail with a message containing `what`.
  void expect_pop_error(const std::string& what) {
    auto popped = queue_.pop();
    ASSERT_FALSE(popped) << "pop accepted a hostile chain";
    EXPECT_NE(popped.error().message().find(what), std::string::npos)
        << popped.error().message();
  }

  GuestMemory memory_ = GuestMemory::allocate(kMemorySize).value();
  std::optional<FakeVirtqueueDriver> driver_;
  Virtqueue queue_;
};

TEST_F(VirtqueueTest, EmptyQueuePopsNothing) {
  auto popped = queue_.pop();
  ASSERT_TRUE(popped);
  EXPECT_FALSE(popped->has_value());
}

TEST_F(VirtqueueTest, PopsAChainWithReadableThenWritableBuffers) {
  uint64_t a = driver_->allocate(16), b = driver_->allocate(100), c = driver_->allocate(1);
  uint16_t head = driver_->add_chain({{a, 16, false}, {b, 100, true}, {c, 1, true}});
  auto popped = queue_.pop();
  ASSERT_TRUE(popped) << popped.error().message();
  ASSERT_TRUE(popped->has_value());
  const DescriptorChain& chain = **popped;
  EXPECT_EQ(chain.head, head);
  ASSERT_EQ(chain.buffers.size(), 3u);
  EXPECT_EQ(chain.buffers[0].address, a);
  EXPECT_EQ(chain.buffers[0].length, 16u);
  EXPECT_FALSE(chain.buffers[0].device_writable);
  EXPECT_EQ(chain.buffers[1].address, b);
  EXPECT_TRUE(chain.buffers[1].device_writable);
  EXPECT_EQ(chain.buffers[2].address, c);
  EXPECT_EQ(chain.readable_bytes(), 16u);
  EXPECT_EQ(chain.writable_bytes(), 101u);
  // Consumed: the next pop finds nothing.
  auto again = queue_.pop();
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
}

TEST_F(VirtqueueTest, UnpublishedChainsAreInvisible) {
  uint64_t a = driver_->allocate(8);
  driver_->add_chain({{a, 8, false}}, /*publish_now=*/false);
  auto popped = queue_.pop();
  ASSERT_TRUE(popped);
  EXPECT_FALSE(popped->has_value());
  driver_->publish();
  popped = queue_.pop();
  ASSERT_TRUE(popped);
  EXPECT_TRUE(popped->has_value());
}

TEST_F(VirtqueueTest, PushUsedWritesTheElementAndIndex) {
  uint64_t a = driver_->allocate(8);
  uint16_t first = driver_->add_chain({{a, 8, true}});
  uint16_t second = driver_->add_chain({{a, 8, true}});
  ASSERT_NE(first, second);
  auto one = queue_.pop();
  auto two = queue_.pop();
  ASSERT_TRUE(one && two);
  // Out of order, as a device may complete them.
  ASSERT_TRUE(queue_.push_used((*two)->head, 5));
  EXPECT_EQ(driver_->used_idx(), 1);
  ASSERT_TRUE(queue_.push_used((*one)->head, 8));
  EXPECT_EQ(driver_->used_idx(), 2);
  auto used = driver_->take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, second);
  EXPECT_EQ(used->length, 5u);
  used = driver_->take_used();
  ASSERT_TRUE(used);
  EXPECT_EQ(used->id, first);
  EXPECT_EQ(used->length, 8u);
  EXPECT_FALSE(driver_->take_used());
}

TEST_F(VirtqueueTest, PushUsedRefusesAHeadOutOfRange) {
  EXPECT_FALSE(queue_.push_used(16, 0));
  EXPECT_EQ(driver_->used_idx(), 0);
}

TEST_F(VirtqueueTest, IndexesWrapAroundSixteenBits) {
  make_queue(4);
  uint64_t a = driver_->allocate(4);
  // 70000 chains take both 16-bit indexes past 65535 and the ring slots around many times.
  for (uint32_t i = 0; i < 70000; ++i) {
    uint32_t value = i;
    ASSERT_TRUE(memory_.write_object(a, value));
    uint16_t head = driver_->add_chain({{a, 4, false}});
    auto popped = queue_.pop();
    ASSERT_TRUE(popped) << "at " << i << ": " << popped.error().message();
    ASSERT_TRUE(popped->has_value()) << "at " << i;
    ASSERT_EQ((*popped)->head, head);
    uint32_t read_back = 0;
    auto copied = queue_.read_from(**popped, 0, {reinterpret_cast<uint8_t*>(&read_back), 4});
    ASSERT_TRUE(copied && *copied == 4);
    ASSERT_EQ(read_back, i);
    ASSERT_TRUE(queue_.push_used(head, i));
    auto used = driver_->take_used();
    ASSERT_TRUE(used);
    ASSERT_EQ(used->id, head);
    ASSERT_EQ(used->length, i);
  }
  EXPECT_EQ(driver_->used_idx(), static_cast<uint16_t>(70000));
}

TEST_F(VirtqueueTest, AFullRingPopsEveryChain) {
  uint64_t a = driver_->allocate(1);
  for (int i = 0; i < 16; ++i) driver_->add_chain({{a, 1, false}});
  for (int i = 0; i < 16; ++i) {
    auto popped = queue_.pop();
    ASSERT_TRUE(popped && popped->has_value()) << i;
  }
  auto popped = queue_.pop();
  ASSERT_TRUE(popped);
  EXPECT_FALSE(popped->has_value());
}

TEST_F(VirtqueueTest, ReadFromAndWriteToSpanBuffers) {
  uint64_t r1 = driver_->allocate(3), r2 = driver_->allocate(5);
  uint64_t w1 = driver_->allocate(2), w2 = driver_->allocate(6);
  std::vector<uint8_t> source(8);
  std::iota(source.begin(), source.end(), 1);
  ASSERT_TRUE(memory_.write(r1, std::span(source).first(3)));
  ASSERT_TRUE(memory_.write(r2, std::span(source).subspan(3)));
  driver_->add_chain({{r1, 3, false}, {r2, 5, false}, {w1, 2, true}, {w2, 6, true}});
  auto popped = queue_.pop();
  ASSERT_TRUE(popped && popped->has_value());
  const DescriptorChain& chain = **popped;

  std::vector<uint8_t> out(10, 0);
  auto copied = queue_.read_from(chain, 2, out);
  ASSERT_TRUE(copied);
  EXPECT_EQ(*copied, 6u);  // only 8 readable bytes, from offset 2
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 6),
            std::vector<uint8_t>(source.begin() + 2, source.end()));

  std::vector<uint8_t> data = {10, 11, 12, 13, 14, 15, 16, 17, 18};
  auto written = queue_.write_to(chain, 1, data);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 7u);  // 8 writable bytes from offset 1
  std::vector<uint8_t> back(8);
  ASSERT_TRUE(memory_.read(w1, std::span(back).first(2)));
  ASSERT_TRUE(memory_.read(w2, std::span(back).subspan(2)));
  EXPECT_EQ(back, (std::vector<uint8_t>{0, 10, 11, 12, 13, 14, 15, 16}));
  // Writes never land in readable buffers.
  std::vector<uint8_t> readable(8);
  ASSERT_TRUE(memory_.read(r1, std::span(readable).first(3)));
  ASSERT_TRUE(memory_.read(r2, std::span(readable).subspan(3)));
  EXPECT_EQ(readable, source);
}

TEST_F(VirtqueueTest, InterruptSuppressionFollowsTheAvailFlag) {
  EXPECT_FALSE(queue_.interrupt_suppressed());
  driver_->set_avail_flags(FakeVirtqueueDriver::kAvailNoInterrupt);
  EXPECT_TRUE(queue_.interrupt_suppressed());
}

// --- Hostile rings: every case is an error, never a crash.

TEST_F(VirtqueueTest, AvailIndexJumpingPastTheQueueSizeIsAnError) {
  driver_->set_avail_idx(17);
  expect_pop_error("avail index jumped");
  // Exactly the queue size ahead is legal (a full ring).
  driver_->set_avail_idx(16);
  for (uint16_t i = 0; i < 16; ++i) driver_->write_descriptor(i, {.address = 0x100, .length = 1});
  auto popped = queue_.pop();
  ASSERT_TRUE(popped) << popped.error().message();
  EXPECT_TRUE(popped->has_value());
}

TEST_F(VirtqueueTest, AvailIndexGoingBackwardsIsAnError) {
  driver_->add_chain({{0x100, 1, false}});
  ASSERT_TRUE(queue_.pop());
  driver_->set_avail_idx(0);  // 0 - 1 = 65535 pending
  expect_pop_error("avail index jumped");
}

TEST_F(VirtqueueTest, HeadOutOfRangeIsAnError) {
  driver_->post_raw_head(16);
  expect_pop_error("out of range");
}

TEST_F(VirtqueueTest, NextOutOfRangeIsAnError) {
  driver_->write_descriptor(
      0, {.address = 0x100, .length = 1, .flags = FakeVirtqueueDriver::kDescriptorNext, .next = 0xffff});
  driver_->post_raw_head(0);
  expect_pop_error("out of range");
}

TEST_F(VirtqueueTest, SelfLoopIsAnError) {
  driver_->write_descriptor(
      3, {.address = 0x100, .length = 1, .flags = FakeVirtqueueDriver::kDescriptorNext, .next = 3});
  driver_->post_raw_head(3);
  expect_pop_error("loop");
}

TEST_F(VirtqueueTest, LongLoopIsAnError) {
  for (uint16_t i = 0; i < 16; ++i)
    driver_->write_descriptor(i, {.address = 0x100,
                                  .length = 1,
                                  .flags = FakeVirtqueueDriver::kDescriptorNext,
                                  .next = static_cast<uint16_t>((i + 1) % 16)});
  driver_->post_raw_head(5);
  expect_pop_error("loop");
}

TEST_F(VirtqueueTest, ChainOfEveryDescriptorIsAccepted) {
  for (uint16_t i = 0; i < 16; ++i)
    driver_->write_descriptor(i, {.address = 0x100,
                                  .length = 1,
                                  .flags = static_cast<uint16_t>(i < 15 ? FakeVirtqueueDriver::kDescriptorNext : 0),
                                  .next = static_cast<uint16_t>(i + 1)});
  driver_->post_raw_head(0);
  auto popped = queue_.pop();
  ASSERT_TRUE(popped) << popped.error().message();
  ASSERT_TRUE(popped->has_value());
  EXPECT_EQ((*popped)->buffers.size(), 16u);
}

TEST_F(VirtqueueTest, BufferOutsideMemoryIsAnError) {
  driver_->write_descriptor(0, {.address = kMemorySize - 4, .length = 8});
  driver_->post_raw_head(0);
  expect_pop_error("outside guest memory");
}

TEST_F(VirtqueueTest, AddressNearTwoToTheSixtyFourIsAnError) {
  // address + length wraps to a small number: must not pass as "inside".
  driver_->write_descriptor(0, {.address = ~0ull - 0xf, .length = 0x100});
  driver_->post_raw_head(0);
  expect_pop_error("outside guest memory");
}

TEST_F(VirtqueueTest, HugeLengthIsAnError) {
  driver_->write_descriptor(0, {.address = 0, .length = 0xffffffff});
  driver_->post_raw_head(0);
  expect_pop_error("outside guest memory");
}

TEST_F(VirtqueueTest, ChainOverFourGibIsAnError) {
  auto big = GuestMemory::allocate(3ull << 30);  // lazily backed: costs nothing
  ASSERT_TRUE(big);
  FakeVirtqueueDriver driver(*big, 4);
  auto queue = Virtqueue::create(*big, driver.config());
  ASSERT_TRUE(queue);
  for (uint16_t i = 0; i < 3; ++i)
    driver.write_descriptor(i, {.address = 0,
                                .length = 0x60000000,  // 1.5 GiB, three of them > 4 GiB
                                .flags = static_cast<uint16_t>(i < 2 ? FakeVirtqueueDriver::kDescriptorNext : 0),
                                .next = static_cast<uint16_t>(i + 1)});
  driver.post_raw_head(0);
  auto popped = queue->pop();
  ASSERT_FALSE(popped);
  EXPECT_NE(popped.error().message().find("4 GiB"), std::string::npos);
}

TEST_F(VirtqueueTest, ReadableAfterWritableIsAnError) {
  driver_->write_descriptor(0, {.address = 0x100,
                                .length = 1,
                                .flags = FakeVirtqueueDriver::kDescriptorWrite |
                                         FakeVirtqueueDriver::kDescriptorNext,
                                .next = 1});
  driver_->write_descriptor(1, {.address = 0x100, .length = 1});
  driver_->post_raw_head(0);
  expect_pop_error("readable after a writable");
}

TEST_F(VirtqueueTest, IndirectDescriptorIsAnError) {
  driver_->write_descriptor(
      0, {.address = 0x100, .length = 16, .flags = FakeVirtqueueDriver::kDescriptorIndirect});
  driver_->post_raw_head(0);
  expect_pop_error("indirect");
}

TEST_F(VirtqueueTest, ErrorsAreStickyAndHarmless) {
  driver_->post_raw_head(99);
  expect_pop_error("out of range");
  expect_pop_error("out of range");  // the bad entry is not skipped silently
  EXPECT_EQ(driver_->used_idx(), 0);
}

TEST_F(VirtqueueTest, CreateChecksTheConfig) {
  VirtqueueConfig good = driver_->config();
  EXPECT_TRUE(Virtqueue::create(memory_, good));

  auto with = [&](auto change) {
    VirtqueueConfig config = good;
    change(config);
    return Virtqueue::create(memory_, config).has_value();
  };
  EXPECT_FALSE(with([](auto& c) { c.size = 0; }));
  EXPECT_FALSE(with([](auto& c) { c.size = 12; }));  // not a power of two
  EXPECT_FALSE(with([](auto& c) { c.descriptor_table += 8; }));
  EXPECT_FALSE(with([](auto& c) { c.driver_area += 1; }));
  EXPECT_FALSE(with([](auto& c) { c.device_area += 2; }));
  EXPECT_FALSE(with([](auto& c) { c.descriptor_table = kMemorySize - 16; }));
  EXPECT_FALSE(with([](auto& c) { c.driver_area = kMemorySize - 4; }));
  EXPECT_FALSE(with([](auto& c) { c.device_area = ~0ull - 3; }));
  EXPECT_TRUE(with([](auto& c) { c.size = 32768; c.descriptor_table = 0; c.driver_area = 0x80000;
                                 c.device_area = 0x90000; }));
}

TEST_F(VirtqueueTest, UnsetQueueRefusesEverything) {
  Virtqueue unset;
  EXPECT_FALSE(unset.ready());
  EXPECT_FALSE(unset.pop());
  EXPECT_FALSE(unset.push_used(0, 0));
  EXPECT_FALSE(unset.interrupt_suppressed());
}

}  // namespace
}  // namespace podrt::vmm
