#include "stage1-kvm/virtio/net_device.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/vmm/support/fake_virtqueue_driver.h"

namespace podrt::vmm {
namespace {

using testing::FakeBuffer;
using testing::FakeVirtqueueDriver;

constexpr uint64_t kQueueSpacing = 1 << 20;
constexpr uint16_t kQueueSize = 64;
constexpr size_t kHeader = NetDevice::kHeaderSize;

std::string frame_of(size_t size, char seed) {
  std::string frame(size, '\0');
  for (size_t i = 0; i < size; ++i) frame[i] = static_cast<char>(seed + static_cast<char>(i % 97));
  return frame;
}

// A guest with rx and tx queues, and a SOCK_SEQPACKET pair standing in for the tap: like a tap,
// each read returns one whole frame.
class NetDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    memory_ = std::make_unique<GuestMemory>(GuestMemory::allocate(4 << 20).value());
    for (uint16_t i = 0; i < 2; ++i) {
      drivers_.push_back(std::make_unique<FakeVirtqueueDriver>(*memory_, kQueueSize, i * kQueueSpacing + 0x1000));
      queues_.push_back(Virtqueue::create(*memory_, drivers_.back()->config()).value());
    }
    loop_ = std::make_unique<EventLoop>(EventLoop::create().value());
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    tap_.reset(fds[0]);
    wire_.reset(fds[1]);
    device_ = NetDevice::create(tap_.get(), "52:54:00:12:34:56", *loop_).value();
    VirtioActivation activation{
        .memory = memory_.get(),
        .queues = queues_,
        .signal_used = [this] { ++interrupts_; },
        .fail = [this](const Error& error) { failures_.push_back(error.message()); },
    };
    ASSERT_TRUE(device_->activate(0, std::move(activation)).has_value());
  }

  FakeVirtqueueDriver& rx() { return *drivers_[NetDevice::kRxQueue]; }
  FakeVirtqueueDriver& tx() { return *drivers_[NetDevice::kTxQueue]; }

  void pump(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(loop_->run_once(0).has_value());
  }

  /// An rx chain of writable buffers of these sizes; remembers where they are.
  uint16_t post_rx(std::vector<uint32_t> sizes, bool notify = true) {
    std::vector<FakeBuffer> buffers;
    for (uint32_t size : sizes) buffers.push_back({rx().allocate(size), size, true});
    uint16_t head = rx().add_chain(buffers);
    rx_chains_[head] = buffers;
    if (notify) device_->queue_notified(NetDevice::kRxQueue);
    return head;
  }

  /// The bytes the device wrote into a used rx chain (header included).
  std::string rx_contents(uint16_t head, uint32_t length) {
    std::string bytes;
    for (const FakeBuffer& buffer : rx_chains_.at(head)) {
      if (bytes.size() >= length) break;
      std::string part(std::min<size_t>(buffer.length, length - bytes.size()), '\0');
      EXPECT_TRUE(memory_->read(buffer.address, {reinterpret_cast<uint8_t*>(part.data()), part.size()}).has_value());
      bytes += part;
    }
    return bytes;
  }

  /// A tx chain carrying `bytes` (header included) split into readable pieces of these sizes
  /// (the last piece takes the rest).
  uint16_t post_tx(const std::string& bytes, std::vector<size_t> pieces = {}) {
    std::vector<FakeBuffer> buffers;
    size_t offset = 0;
    for (size_t i = 0; offset < bytes.size() || (i == 0 && bytes.empty()); ++i) {
      size_t length = i < pieces.size() ? pieces[i] : bytes.size() - offset;
      uint64_t address = tx().allocate(std::max<size_t>(length, 1));
      EXPECT_TRUE(memory_->write(address, {reinterpret_cast<const uint8_t*>(bytes.data() + offset), length}).has_value());
      buffers.push_back({address, static_cast<uint32_t>(length), false});
      offset += length;
      if (bytes.empty()) break;
    }
    uint16_t head = tx().add_chain(buffers);
    device_->queue_notified(NetDevice::kTxQueue);
    return head;
  }

  std::string wire_read() {
    char buffer[70000];
    ssize_t n = ::recv(wire_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }

  void wire_send(const std::string& frame) {
    ASSERT_EQ(::send(wire_.get(), frame.data(), frame.size(), MSG_DONTWAIT), static_cast<ssize_t>(frame.size()));
  }

  std::unique_ptr<GuestMemory> memory_;
  std::vector<std::unique_ptr<FakeVirtqueueDriver>> drivers_;
  std::vector<Virtqueue> queues_;
  std::unique_ptr<EventLoop> loop_;
  UniqueFd tap_;
  UniqueFd wire_;
  std::unique_ptr<NetDevice> device_;
  int interrupts_ = 0;
  std::vector<std::string> failures_;
  std::map<uint16_t, std::vector<FakeBuffer>> rx_chains_;
};

TEST(NetDeviceMacAddressTest, ParsesSixHexPairs) {
  auto mac = parse_mac_address("52:54:00:aB:cd:Ef");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(*mac, (MacAddress{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}));
  for (const char* bad : {"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56", "52:54:00:12:34:5g",
                          "5254.0012.3456ab", "01:00:5e:00:00:01"}) {
    auto parsed = parse_mac_address(bad);
    EXPECT_FALSE(parsed.has_value()) << bad;
  }
}

TEST_F(NetDeviceTest, ABadMacIsAClearError) {
  auto device = NetDevice::create(tap_.get(), "52:54:00:zz:34:56", *loop_);
  ASSERT_FALSE(device.has_value());
  EXPECT_NE(device.error().message().find("52:54:00:zz:34:56"), std::string::npos);
  EXPECT_NE(device.error().message().find("MAC"), std::string::npos);
}

TEST_F(NetDeviceTest, ConfigHoldsTheMacAndLinkUp) {
  EXPECT_EQ(device_->device_type(), 1u);
  EXPECT_EQ(device_->queue_count(), 2);
  EXPECT_EQ(device_->device_features(), NetDevice::kFeatureMac | NetDevice::kFeatureStatus);
  uint8_t config[8];
  device_->read_config(0, config);
  EXPECT_EQ(std::vector<uint8_t>(config, config + 6), (std::vector<uint8_t>{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}));
  EXPECT_EQ(config[6], 1);  // VIRTIO_NET_S_LINK_UP
  EXPECT_EQ(config[7], 0);
  uint8_t beyond[4] = {9, 9, 9, 9};
  device_->read_config(~0ull - 2, beyond);
  EXPECT_EQ(std::vector<uint8_t>(beyond, beyond + 4), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST_F(NetDeviceTest, TxStripsTheHeader) {
  std::string frame = frame_of(60, 'a');
  std::string header(kHeader, '\x55');  // whatever the guest put there: never reaches the wire
  // The header split over two descriptors and sharing one with the frame (VIRTIO_F_ANY_LAYOUT).
  uint16_t head = post_tx(header + frame, {5, 20});
  EXPECT_EQ(wire_read(), frame);
  auto used = tx().take_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  // Header and frame in separate descriptors, as Linux without ANY_LAYOUT does.
  std::string second = frame_of(1514, 'k');
  post_tx(header + second, {kHeader});
  EXPECT_EQ(wire_read(), second);
  EXPECT_EQ(device_->tx_frames_dropped(), 0u);
  EXPECT_TRUE(failures_.empty());
  EXPECT_GT(interrupts_, 0);
}

TEST_F(NetDeviceTest, ATxChainShorterThanTheHeaderFailsTheDevice) {
  post_tx(std::string(8, '\0'));
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("virtio-net"), std::string::npos);
  EXPECT_NE(failures_[0].find("header"), std::string::npos);
  EXPECT_EQ(wire_read(), "");
  // A failed device processes nothing more.
  post_tx(std::string(kHeader, '\0') + frame_of(60, 'z'));
  EXPECT_EQ(wire_read(), "");
  EXPECT_EQ(failures_.size(), 1u);
}

TEST_F(NetDeviceTest, RxAddsAZeroedHeaderWithOneBuffer) {
  // The header straddles two descriptors.
  uint16_t head = post_rx({7, 1600});
  std::string frame = frame_of(98, 'q');
  wire_send(frame);
  pump();
  auto used = rx().take_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  ASSERT_EQ(used->length, kHeader + frame.size());
  std::string bytes = rx_contents(head, used->length);
  std::string expected_header(kHeader, '\0');
  expected_header[10] = 1;  // num_buffers = 1, little-endian
  EXPECT_EQ(bytes.substr(0, kHeader), expected_header);
  EXPECT_EQ(bytes.substr(kHeader), frame);
  EXPECT_GT(interrupts_, 0);
}

TEST_F(NetDeviceTest, AnOversizedFrameIsDroppedAndCountedAndTheNextFits) {
  uint16_t head = post_rx({kHeader + 100});
  wire_send(frame_of(200, 'b'));  // does not fit the guest's buffer
  std::string small = frame_of(50, 's');
  wire_send(small);
  pump();
  EXPECT_EQ(device_->rx_frames_dropped(), 1u);
  auto used = rx().take_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);  // the same chain carries the next frame
  ASSERT_EQ(used->length, kHeader + small.size());
  EXPECT_EQ(rx_contents(head, used->length).substr(kHeader), small);
  EXPECT_FALSE(rx().take_used().has_value());
  EXPECT_TRUE(failures_.empty());
}

TEST_F(NetDeviceTest, FramesWaitInTheTapUntilRxBuffersArePosted) {
  std::vector<std::string> frames = {frame_of(60, '1'), frame_of(1000, '2'), frame_of(1514, '3')};
  for (const std::string& frame : frames) wire_send(frame);
  pump(5);
  EXPECT_FALSE(rx().take_used().has_value());
  std::vector<uint16_t> heads;
  for (int i = 0; i < 3; ++i) heads.push_back(post_rx({1526}, false));
  device_->queue_notified(NetDevice::kRxQueue);
  pump();
  for (size_t i = 0; i < frames.size(); ++i) {
    auto used = rx().take_used();
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(used->id, heads[i]);
    ASSERT_EQ(used->length, kHeader + frames[i].size());
    EXPECT_EQ(rx_contents(heads[i], used->length).substr(kHeader), frames[i]);
  }
  EXPECT_EQ(device_->rx_frames_dropped(), 0u);
}

TEST_F(NetDeviceTest, ATapThatWouldBlockDropsAndCountsTxFrames) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(tap_.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string packet = std::string(kHeader, '\0') + frame_of(1400, 'w');
  for (int i = 0; i < 40; ++i) {
    post_tx(packet);
    while (tx().take_used()) {
    }
  }
  // Nobody reads the wire: the tap's queue filled, later frames were dropped, none was held.
  EXPECT_GT(device_->tx_frames_dropped(), 0u);
  EXPECT_LT(device_->tx_frames_dropped(), 40u);
  EXPECT_EQ(tx().free_descriptors(), kQueueSize);
  EXPECT_TRUE(failures_.empty());
  EXPECT_EQ(wire_read().size(), 1400u);
}

TEST_F(NetDeviceTest, ResetStopsRxAndActivationResumesIt) {
  device_->reset();
  wire_send(frame_of(60, 'r'));
  pump();
  // A fresh driver after the reset.
  drivers_.clear();
  queues_.clear();
  for (uint16_t i = 0; i < 2; ++i) {
    drivers_.push_back(std::make_unique<FakeVirtqueueDriver>(*memory_, kQueueSize, i * kQueueSpacing + 0x1000));
    queues_.push_back(Virtqueue::create(*memory_, drivers_.back()->config()).value());
  }
  rx_chains_.clear();
  VirtioActivation activation{.memory = memory_.get(), .queues = queues_, .signal_used = [] {}, .fail = [](const Error&) {}};
  ASSERT_TRUE(device_->activate(0, std::move(activation)).has_value());
  uint16_t head = post_rx({1526});
  pump();
  auto used = rx().take_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(rx_contents(head, used->length).substr(kHeader), frame_of(60, 'r'));
}

}  // namespace
}  // namespace podrt::vmm
