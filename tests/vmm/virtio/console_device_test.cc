#include "stage1-kvm/virtio/console_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
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

constexpr uint32_t kBadId = 0xffffffff;  ///< Linux's VIRTIO_CONSOLE_BAD_ID for device-wide messages
constexpr uint64_t kQueueSpacing = 1 << 20;  ///< each queue's rings and buffers in its own MiB
constexpr uint16_t kQueueSize = 64;

struct ControlMessage {
  uint32_t id = 0;
  uint16_t event = 0;
  uint16_t value = 0;
  std::string payload;
};

uint8_t pattern_byte(uint64_t index) { return static_cast<uint8_t>(index * 7 + index / 251); }

// A guest with the device's six queues, a socketpair whose one end is the device's, and the
// event loop the device registers with.
class ConsoleDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    memory_ = std::make_unique<GuestMemory>(GuestMemory::allocate(8 << 20).value());
    make_rings();
    loop_ = std::make_unique<EventLoop>(EventLoop::create().value());
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    device_end_.reset(fds[0]);
    host_.reset(fds[1]);
    device_ = ConsoleDevice::create(device_end_.get(), *loop_).value();
  }

  /// Fresh rings for all six queues (a new driver after a reset).
  void make_rings() {
    drivers_.clear();
    queues_.clear();
    control_buffers_.clear();
    rx_posted_.clear();
    rx_free_.clear();
    tx_addresses_.clear();
    tx_free_.clear();
    for (uint16_t i = 0; i < 6; ++i) {
      drivers_.push_back(std::make_unique<FakeVirtqueueDriver>(*memory_, kQueueSize, i * kQueueSpacing + 0x1000));
      queues_.push_back(Virtqueue::create(*memory_, drivers_.back()->config()).value());
    }
  }

  void activate(uint64_t features = ConsoleDevice::kFeatureMultiport) {
    VirtioActivation activation{
        .memory = memory_.get(),
        .queues = queues_,
        .signal_used = [this] { ++interrupts_; },
        .fail = [this](const Error& error) { failures_.push_back(error.message()); },
    };
    ASSERT_TRUE(device_->activate(features, std::move(activation)).has_value());
  }

  FakeVirtqueueDriver& driver(uint16_t queue) { return *drivers_[queue]; }

  void pump(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(loop_->run_once(0).has_value());
  }

  // --- control queues, as Linux's driver uses them ---
  void post_control_buffers(int count) {
    for (int i = 0; i < count; ++i) {
      uint64_t address = driver(ConsoleDevice::kControlRxQueue).allocate(4096);
      uint16_t head = driver(ConsoleDevice::kControlRxQueue).add_chain({{address, 4096, true}});
      control_buffers_[head] = address;
    }
    device_->queue_notified(ConsoleDevice::kControlRxQueue);
  }

  void send_control(uint32_t id, uint16_t event, uint16_t value) {
    FakeVirtqueueDriver& control = driver(ConsoleDevice::kControlTxQueue);
    uint64_t address = control.allocate(8);
    uint8_t message[8];
    std::memcpy(message, &id, 4);
    std::memcpy(message + 4, &event, 2);
    std::memcpy(message + 6, &value, 2);
    ASSERT_TRUE(memory_->write(address, message).has_value());
    uint16_t head = control.add_chain({{address, 8, false}});
    device_->queue_notified(ConsoleDevice::kControlTxQueue);
    // Linux spins until the message comes back: the device must answer within the notify.
    auto used = control.take_used();
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(used->id, head);
  }

  std::vector<ControlMessage> received_control() {
    std::vector<ControlMessage> messages;
    while (auto used = driver(ConsoleDevice::kControlRxQueue).take_used()) {
      uint64_t address = control_buffers_.at(static_cast<uint16_t>(used->id));
      std::vector<uint8_t> bytes(used->length);
      EXPECT_TRUE(memory_->read(address, bytes).has_value());
      EXPECT_GE(bytes.size(), 8u);
      if (bytes.size() < 8) continue;
      ControlMessage message;
      std::memcpy(&message.id, bytes.data(), 4);
      std::memcpy(&message.event, bytes.data() + 4, 2);
      std::memcpy(&message.value, bytes.data() + 6, 2);
      message.payload.assign(bytes.begin() + 8, bytes.end());
      messages.push_back(message);
    }
    return messages;
  }

  // DEVICE_READY .. PORT_OPEN, as Linux's virtio_console does it; the port's rx buffers are
  // posted before PORT_READY, as add_port() does.
  void handshake(int rx_buffers = 8, uint32_t rx_buffer_size = 4096) {
    activate();
    post_control_buffers(16);
    send_control(kBadId, ConsoleDevice::kDeviceReady, 1);
    post_rx_buffers(rx_buffers, rx_buffer_size);
    send_control(1, ConsoleDevice::kPortReady, 1);
    send_control(1, ConsoleDevice::kPortOpen, 1);
    EXPECT_EQ(received_control().size(), 3u);  // DEVICE_ADD, PORT_NAME, PORT_OPEN
  }

  // --- port 1 data queues ---
  void post_rx_buffers(int count, uint32_t size, bool notify = true) {
    FakeVirtqueueDriver& rx = driver(ConsoleDevice::kPortRxQueue);
    for (int i = 0; i < count; ++i) {
      auto found = rx_free_.find(size);
      uint64_t address;
      if (found != rx_free_.end() && !found->second.empty()) {
        address = found->second.back();
        found->second.pop_back();
      } else {
        address = rx.allocate(size);
      }
      uint16_t head = rx.add_chain({{address, size, true}});
      rx_posted_[head] = {address, size};
    }
    if (notify) device_->queue_notified(ConsoleDevice::kPortRxQueue);
  }

  /// What the device delivered into rx buffers since the last call; the buffers become free.
  std::string take_rx() {
    std::string data;
    while (auto used = driver(ConsoleDevice::kPortRxQueue).take_used()) {
      auto [address, size] = rx_posted_.at(static_cast<uint16_t>(used->id));
      EXPECT_LE(used->length, size);
      std::string chunk(used->length, '\0');
      EXPECT_TRUE(memory_->read(address, {reinterpret_cast<uint8_t*>(chunk.data()), chunk.size()}).has_value());
      data += chunk;
      rx_free_[size].push_back(address);
      ++rx_chains_used_;
    }
    return data;
  }

  /// Posts `data` as one tx chain split over descriptors of at most `piece` bytes.
  uint16_t post_tx(std::string_view data, uint32_t piece = 4096, bool notify = true) {
    FakeVirtqueueDriver& tx = driver(ConsoleDevice::kPortTxQueue);
    std::vector<FakeBuffer> buffers;
    for (size_t offset = 0; offset < data.size(); offset += piece) {
      size_t length = std::min<size_t>(piece, data.size() - offset);
      uint64_t address = tx_address(length);
      EXPECT_TRUE(memory_->write(address, {reinterpret_cast<const uint8_t*>(data.data() + offset), length}).has_value());
      buffers.push_back({address, static_cast<uint32_t>(length), false});
    }
    uint16_t head = tx.add_chain(buffers);
    tx_addresses_[head] = {};
    for (const FakeBuffer& buffer : buffers) tx_addresses_[head].push_back(buffer.address);
    if (notify) device_->queue_notified(ConsoleDevice::kPortTxQueue);
    return head;
  }

  /// Tx chains the device gave back; their buffers become free.
  int take_tx_used() {
    int count = 0;
    while (auto used = driver(ConsoleDevice::kPortTxQueue).take_used()) {
      for (uint64_t address : tx_addresses_.at(static_cast<uint16_t>(used->id))) tx_free_.push_back(address);
      ++count;
    }
    return count;
  }

  std::string host_read_available() {
    std::string data;
    char buffer[65536];
    for (;;) {
      ssize_t n = ::recv(host_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) break;
      data.append(buffer, static_cast<size_t>(n));
    }
    return data;
  }

  void host_write(std::string_view data) {
    ASSERT_EQ(::send(host_.get(), data.data(), data.size(), MSG_DONTWAIT), static_cast<ssize_t>(data.size()));
  }

  std::unique_ptr<GuestMemory> memory_;
  std::vector<std::unique_ptr<FakeVirtqueueDriver>> drivers_;
  std::vector<Virtqueue> queues_;
  std::unique_ptr<EventLoop> loop_;
  UniqueFd device_end_;
  UniqueFd host_;
  std::unique_ptr<ConsoleDevice> device_;
  int interrupts_ = 0;
  std::vector<std::string> failures_;
  int rx_chains_used_ = 0;

 private:
  uint64_t tx_address(size_t /*length*/) {
    // Every tx piece is at most 4 KiB: buffers are reused once given back.
    if (!tx_free_.empty()) {
      uint64_t address = tx_free_.back();
      tx_free_.pop_back();
      return address;
    }
    return driver(ConsoleDevice::kPortTxQueue).allocate(4096);
  }

  std::map<uint16_t, uint64_t> control_buffers_;
  std::map<uint16_t, std::pair<uint64_t, uint32_t>> rx_posted_;
  std::map<uint32_t, std::vector<uint64_t>> rx_free_;
  std::map<uint16_t, std::vector<uint64_t>> tx_addresses_;
  std::vector<uint64_t> tx_free_;
};

TEST_F(ConsoleDeviceTest, OffersMultiportWithTwoPorts) {
  EXPECT_EQ(device_->device_type(), 3u);
  EXPECT_EQ(device_->queue_count(), 6);
  EXPECT_EQ(device_->device_features(), ConsoleDevice::kFeatureMultiport);
  uint8_t config[12];
  std::memset(config, 0xaa, sizeof config);
  device_->read_config(0, config);
  uint32_t max_ports;
  std::memcpy(&max_ports, config + 4, 4);
  EXPECT_EQ(max_ports, 2u);
  // Past the end of config space, and an offset that would overflow: zeros, no crash.
  uint8_t beyond[4] = {1, 2, 3, 4};
  device_->read_config(10, beyond);
  EXPECT_EQ(beyond[2], 0);
  EXPECT_EQ(beyond[3], 0);
  device_->read_config(~0ull - 1, beyond);
  EXPECT_EQ(beyond[0], 0);
}

TEST_F(ConsoleDeviceTest, RefusesADriverWithoutMultiport) {
  VirtioActivation activation{.memory = memory_.get(), .queues = queues_, .signal_used = [] {}, .fail = [](const Error&) {}};
  auto activated = device_->activate(0, std::move(activation));
  ASSERT_FALSE(activated.has_value());
  EXPECT_NE(activated.error().message().find("MULTIPORT"), std::string::npos);
}

TEST_F(ConsoleDeviceTest, RefusesANonStreamSocket) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd a(fds[0]), b(fds[1]);
  EXPECT_FALSE(ConsoleDevice::create(a.get(), *loop_).has_value());
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
  EXPECT_FALSE(ConsoleDevice::create(r.get(), *loop_).has_value());
}

TEST_F(ConsoleDeviceTest, MultiportHandshakeAddsNamesAndOpensPortOne) {
  activate();
  post_control_buffers(16);
  send_control(kBadId, ConsoleDevice::kDeviceReady, 1);
  auto messages = received_control();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].id, 1u);
  EXPECT_EQ(messages[0].event, ConsoleDevice::kDeviceAdd);
  EXPECT_EQ(messages[0].value, 1);

  post_rx_buffers(4, 4096);
  send_control(1, ConsoleDevice::kPortReady, 1);
  messages = received_control();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].id, 1u);
  EXPECT_EQ(messages[0].event, ConsoleDevice::kPortName);
  // Linux reads the name up to the NUL: exactly what guest-init looks for in sysfs.
  EXPECT_EQ(messages[0].payload, std::string("podrt.control") + '\0');
  EXPECT_EQ(messages[1].id, 1u);
  EXPECT_EQ(messages[1].event, ConsoleDevice::kPortOpen);
  EXPECT_EQ(messages[1].value, 1);  // the host end is connected
  EXPECT_GT(interrupts_, 0);

  EXPECT_FALSE(device_->guest_port_open());
  send_control(1, ConsoleDevice::kPortOpen, 1);
  EXPECT_TRUE(device_->guest_port_open());
  send_control(1, ConsoleDevice::kPortOpen, 0);
  EXPECT_FALSE(device_->guest_port_open());
  EXPECT_TRUE(failures_.empty());
}

TEST_F(ConsoleDeviceTest, ControlMessagesWaitForControlBuffers) {
  activate();
  send_control(kBadId, ConsoleDevice::kDeviceReady, 1);
  EXPECT_TRUE(received_control().empty());
  post_control_buffers(1);
  auto messages = received_control();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].event, ConsoleDevice::kDeviceAdd);
}

TEST_F(ConsoleDeviceTest, GuestBytesReachTheHostInOrder) {
  handshake();
  std::string expected;
  std::string received;
  int used = 0;
  for (int i = 0; i < 20; ++i) {
    std::string piece = "message " + std::to_string(i) + std::string(static_cast<size_t>(i * 37), 'x') + ";";
    expected += piece;
    post_tx(piece, 13);  // chains of many small descriptors
    received += host_read_available();
    used += take_tx_used();
  }
  for (int round = 0; round < 100 && received.size() < expected.size(); ++round) {
    pump(1);
    received += host_read_available();
  }
  EXPECT_EQ(received, expected);
  EXPECT_EQ(used + take_tx_used(), 20);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(ConsoleDeviceTest, HostBytesReachTheGuestInOrder) {
  handshake(8, 100);  // small buffers: the data spans many chains
  std::string expected;
  for (int i = 0; i < 2000; ++i) expected.push_back(static_cast<char>(pattern_byte(static_cast<uint64_t>(i))));
  host_write(expected);
  std::string received;
  for (int round = 0; round < 200 && received.size() < expected.size(); ++round) {
    pump(1);
    std::string chunk = take_rx();
    received += chunk;
    post_rx_buffers(8 - static_cast<int>(driver(ConsoleDevice::kPortRxQueue).size() - driver(ConsoleDevice::kPortRxQueue).free_descriptors()), 100);
  }
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(ConsoleDeviceTest, HostBytesWaitUntilTheGuestOpensThePort) {
  activate();
  post_control_buffers(16);
  send_control(kBadId, ConsoleDevice::kDeviceReady, 1);
  post_rx_buffers(4, 4096);
  send_control(1, ConsoleDevice::kPortReady, 1);
  host_write("early bytes");
  pump();
  // Linux discards data that reaches a port nobody opened: the device must hold off.
  EXPECT_EQ(take_rx(), "");
  send_control(1, ConsoleDevice::kPortOpen, 1);
  pump();
  EXPECT_EQ(take_rx(), "early bytes");
}

TEST_F(ConsoleDeviceTest, HostBytesWithNoRxBufferArriveOnceBuffersCome) {
  handshake(0);
  std::string expected;
  for (int i = 0; i < 50000; ++i) expected.push_back(static_cast<char>(pattern_byte(static_cast<uint64_t>(i))));
  host_write(expected);
  pump(5);
  EXPECT_EQ(take_rx(), "");  // nowhere to put it: it stays in the socket
  std::string received;
  for (int round = 0; round < 200 && received.size() < expected.size(); ++round) {
    // A slow guest: two small buffers at a time, at most eight outstanding.
    FakeVirtqueueDriver& rx = driver(ConsoleDevice::kPortRxQueue);
    if (rx.size() - rx.free_descriptors() < 8) post_rx_buffers(2, 1024);
    pump(1);
    received += take_rx();
  }
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
  EXPECT_TRUE(failures_.empty());
}

// The guest writes far more than the socket holds while the host reads slowly: the device holds
// chains instead of dropping, and every byte arrives exactly once, in order.
TEST_F(ConsoleDeviceTest, GuestToHostBackpressureLosesNothing) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(device_end_.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  ASSERT_EQ(::setsockopt(host_.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  handshake();
  constexpr uint64_t kTotal = 4 << 20;
  constexpr uint64_t kChainSize = 16384;
  constexpr int kInFlight = 8;
  uint64_t posted = 0;
  int in_flight = 0;
  auto post_more = [&] {
    while (in_flight < kInFlight && posted < kTotal) {
      std::string chain(kChainSize, '\0');
      for (uint64_t i = 0; i < kChainSize; ++i) chain[i] = static_cast<char>(pattern_byte(posted + i));
      post_tx(chain, 4096, false);
      posted += kChainSize;
      ++in_flight;
    }
    device_->queue_notified(ConsoleDevice::kPortTxQueue);
  };
  post_more();
  pump(5);
  in_flight -= take_tx_used();
  // Nobody read yet: the socket is full and the device holds the rest of the chains.
  EXPECT_GT(in_flight, 0);

  uint64_t received = 0;
  bool in_order = true;
  char buffer[3000];
  for (int round = 0; round < 100000 && received < kTotal; ++round) {
    ssize_t n = ::recv(host_.get(), buffer, sizeof buffer, MSG_DONTWAIT);  // a slow reader
    for (ssize_t i = 0; i < n; ++i)
      if (static_cast<uint8_t>(buffer[i]) != pattern_byte(received + static_cast<uint64_t>(i))) in_order = false;
    if (n > 0) received += static_cast<uint64_t>(n);
    ASSERT_TRUE(loop_->run_once(0).has_value());
    in_flight -= take_tx_used();
    post_more();
  }
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(host_read_available(), "");  // nothing twice
  EXPECT_EQ(in_flight, 0);
  EXPECT_TRUE(failures_.empty());
}

// What the VMM's last round waits on (Machine::deliver_last_guest_output): guest bytes that a
// full socket holds back are pending until the host has read them; a host that is gone is not.
TEST_F(ConsoleDeviceTest, OutputIsPendingWhileTheSocketHoldsItBack) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(device_end_.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  ASSERT_EQ(::setsockopt(host_.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  handshake();
  EXPECT_FALSE(device_->output_pending());
  std::string chain(65536, 'x');
  post_tx(chain, 4096, false);
  device_->queue_notified(ConsoleDevice::kPortTxQueue);
  pump(5);
  EXPECT_TRUE(device_->output_pending());

  uint64_t received = 0;
  char buffer[4096];
  for (int round = 0; round < 10000 && device_->output_pending(); ++round) {
    ssize_t n = ::recv(host_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) received += static_cast<uint64_t>(n);
    ASSERT_TRUE(loop_->run_once(0).has_value());
  }
  EXPECT_FALSE(device_->output_pending());
  received += host_read_available().size();
  EXPECT_EQ(received, chain.size());

  // The reader gone: nothing is pending any more, however much the guest posts.
  post_tx(chain, 4096, false);
  host_.reset();
  device_->queue_notified(ConsoleDevice::kPortTxQueue);
  pump(5);
  EXPECT_FALSE(device_->output_pending());
}

// The host writes far more than the guest takes at once: the device reads only what the posted
// buffers hold, the rest waits in the socket, and every byte arrives exactly once, in order.
TEST_F(ConsoleDeviceTest, HostToGuestBackpressureLosesNothing) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(host_.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  handshake(4, 4096);
  constexpr uint64_t kTotal = 4 << 20;
  std::vector<uint8_t> all(kTotal);
  for (uint64_t i = 0; i < kTotal; ++i) all[i] = pattern_byte(i);
  uint64_t sent = 0;
  uint64_t received = 0;
  bool in_order = true;
  bool host_blocked = false;
  for (int round = 0; round < 100000 && received < kTotal; ++round) {
    if (sent < kTotal) {
      ssize_t n = ::send(host_.get(), all.data() + sent, kTotal - sent, MSG_DONTWAIT);
      // A short write or EAGAIN: the socket is full because the device stopped reading.
      if ((n < 0 && errno == EAGAIN) || (n >= 0 && static_cast<uint64_t>(n) < kTotal - sent)) host_blocked = true;
      if (n > 0) sent += static_cast<uint64_t>(n);
    }
    ASSERT_TRUE(loop_->run_once(0).has_value());
    std::string chunk = take_rx();
    for (size_t i = 0; i < chunk.size(); ++i)
      if (static_cast<uint8_t>(chunk[i]) != all[received + i]) in_order = false;
    received += chunk.size();
    // A guest that gives back at most two buffers per round.
    FakeVirtqueueDriver& rx = driver(ConsoleDevice::kPortRxQueue);
    int posted = static_cast<int>(rx.size() - rx.free_descriptors());
    if (posted < 4) post_rx_buffers(std::min(2, 4 - posted), 4096);
  }
  EXPECT_TRUE(host_blocked);  // the host felt the backpressure
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(in_order);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(ConsoleDeviceTest, HostCloseTellsTheGuestAndDiscardsLaterOutput) {
  handshake();
  host_write("last words");
  host_.reset();
  pump(5);
  EXPECT_EQ(take_rx(), "last words");  // what was sent before the close still arrives
  EXPECT_FALSE(device_->host_connected());
  auto messages = received_control();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].event, ConsoleDevice::kPortOpen);
  EXPECT_EQ(messages[0].value, 0);
  // Output to a closed host is consumed, never held: the guest must not wait forever.
  post_tx("into the void");
  pump(3);
  EXPECT_EQ(take_tx_used(), 1);
  EXPECT_TRUE(failures_.empty());
}

TEST_F(ConsoleDeviceTest, ABrokenRingFailsTheDeviceOnce) {
  handshake();
  FakeVirtqueueDriver& tx = driver(ConsoleDevice::kPortTxQueue);
  tx.write_descriptor(5, {.address = memory_->size() - 4, .length = 64, .flags = 0, .next = 0});  // past the end
  tx.post_raw_head(5);
  device_->queue_notified(ConsoleDevice::kPortTxQueue);
  ASSERT_EQ(failures_.size(), 1u);
  EXPECT_NE(failures_[0].find("virtio-console"), std::string::npos);
  post_tx("ignored");
  pump();
  EXPECT_EQ(failures_.size(), 1u);
  EXPECT_EQ(host_read_available(), "");
}

TEST_F(ConsoleDeviceTest, ResetForgetsThePortAndAHandshakeStartsOver) {
  handshake();
  device_->reset();
  EXPECT_FALSE(device_->guest_port_open());
  host_write("after reset");
  pump();
  make_rings();
  handshake();
  pump();
  EXPECT_EQ(take_rx(), "after reset");
  EXPECT_TRUE(failures_.empty());
}

}  // namespace
}  // namespace podrt::vmm
