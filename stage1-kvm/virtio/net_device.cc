#include "stage1-kvm/virtio/net_device.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace podrt::vmm {
namespace {

static_assert(std::endian::native == std::endian::little, "virtio 1.x structures are little-endian");

/// struct virtio_net_config as far as the offered features reach: mac[6], status.
constexpr uint64_t kConfigSize = 8;
constexpr uint16_t kStatusLinkUp = 1;  ///< VIRTIO_NET_S_LINK_UP

/// struct virtio_net_hdr_v1: no checksum or segmentation offload; one buffer per frame.
struct NetHeader {
  uint8_t flags = 0;
  uint8_t gso_type = 0;  ///< VIRTIO_NET_HDR_GSO_NONE
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
  uint16_t num_buffers = 1;
};
static_assert(sizeof(NetHeader) == NetDevice::kHeaderSize);

/// Frames per tap wakeup, so a busy tap cannot starve the loop's other fds (epoll reports it
/// again on the next round).
constexpr int kRxFrameBudget = 64;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


}  // namespace

Result<MacAddress> parse_mac_address(std::string_view text) {
  auto bad = [&] {
    return Error::invalid("bad MAC address \"" + std::string(text) + "\" (want six hex pairs like 52:54:00:12:34:56)");
  };
  // "xx:xx:xx:xx:xx:xx": 6 pairs and 5 colons.
  if (text.size() != 17) return bad();
  MacAddress mac{};
  for (size_t i = 0; i < mac.size(); ++i) {
    int high = hex_digit(text[i * 3]);
    int low = hex_digit(text[i * 3 + 1]);
    if (high < 0 || low < 0 || (i < 5 && text[i * 3 + 2] != ':')) return bad();
    mac[i] = static_cast<uint8_t>(high << 4 | low);
  }
  // A multicast source address would make the guest's frames undeliverable.
  if (mac[0] & 1) return Error::invalid("MAC address " + std::string(text) + " is multicast");
  return mac;
}

Result<std::unique_ptr<NetDevice>> NetDevice::create(int tap_fd, const std::string& mac, EventLoop& loop) {
  MacAddress address = PODRT_TRY_CONTEXT(parse_mac_address(mac), "virtio-net");
  const std::string what = "virtio-net on fd " + std::to_string(tap_fd);
  int flags = ::fcntl(tap_fd, F_GETFL);
  if (flags < 0) return Error::from_errno(what);
  if (::fcntl(tap_fd, F_SETFL, flags | O_NONBLOCK) != 0) return Error::from_errno(what + ": make it non-blocking");
  std::unique_ptr<NetDevice> device(new NetDevice(tap_fd, address, loop));
  device->frame_.resize(kMaxFrameSize);
  return device;
}

NetDevice::~NetDevice() {
  if (registered_) loop_.remove(tap_fd_);
}

void NetDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  uint8_t config[kConfigSize] = {};
  std::memcpy(config, mac_.data(), mac_.size());
  std::memcpy(config + mac_.size(), &kStatusLinkUp, sizeof kStatusLinkUp);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = offset < kConfigSize && i < kConfigSize - offset ? config[offset + i] : 0;
}

Result<void> NetDevice::activate(uint64_t /*negotiated_features*/, VirtioActivation activation) {
  if (activation.memory == nullptr || activation.queues.size() < queue_count())
    return Error::invalid("virtio-net: activated with " + std::to_string(activation.queues.size()) +
                          " queues, needs " + std::to_string(queue_count()));
  std::lock_guard lock(mutex_);
  activation_ = std::move(activation);
  failed_ = false;
  rx_chain_.reset();
  rx_starved_ = false;
  update_watch();  // the loop delivers whatever waits in the tap once the guest posts buffers
  return ok();
}

void NetDevice::reset() {
  std::lock_guard lock(mutex_);
  activation_.reset();
  failed_ = false;
  rx_chain_.reset();
  rx_starved_ = false;
  update_watch();
}

uint64_t NetDevice::rx_frames_dropped() const {
  std::lock_guard lock(mutex_);
  return rx_dropped_;
}

uint64_t NetDevice::tx_frames_dropped() const {
  std::lock_guard lock(mutex_);
  return tx_dropped_;
}

void NetDevice::queue_notified(uint16_t index) {
  std::lock_guard lock(mutex_);
  if (!running()) return;
  if (index == kTxQueue) {
    transmit();
  } else if (index == kRxQueue) {
    rx_starved_ = false;
    receive();
  }
  update_watch();
  flush_interrupt();
}

void NetDevice::on_tap_events(uint32_t events) {
  std::lock_guard lock(mutex_);
  // EPOLLHUP/EPOLLERR too: the read finds out what they mean.
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) receive();
  update_watch();
  flush_interrupt();
}

void NetDevice::flush_interrupt() {
  // The transport's callbacks take no lock, so they are called with ours held.
  if (interrupt_pending_ && activation_) activation_->signal_used();
  interrupt_pending_ = false;
}

void NetDevice::note_used(const Virtqueue& queue) {
  if (!queue.interrupt_suppressed()) interrupt_pending_ = true;
}

void NetDevice::fail(Error error) {
  if (failed_ || !activation_) return;
  failed_ = true;
  rx_chain_.reset();
  activation_->fail(std::move(error).with_context("virtio-net"));
}

void NetDevice::transmit() {
  Virtqueue& tx = activation_->queues[kTxQueue];
  if (!tx.ready()) return;
  while (running()) {
    auto popped = tx.pop();
    if (!popped) return fail(std::move(popped).error());
    if (!*popped) return;
    const DescriptorChain& chain = **popped;
    uint64_t readable = chain.readable_bytes();
    if (readable < kHeaderSize)
      return fail(Error::invalid("a tx chain of " + std::to_string(readable) +
                                           " bytes is shorter than its " + std::to_string(kHeaderSize) +
                                           "-byte header"));
    uint64_t frame_size = readable - kHeaderSize;
    bool sent = false;
    if (frame_size > 0 && frame_size <= frame_.size()) {
      auto copied = tx.read_from(chain, kHeaderSize, std::span<uint8_t>(frame_.data(), static_cast<size_t>(frame_size)));
      if (!copied) return fail(std::move(copied).error());
      ssize_t written;
      do {
        written = ::write(tap_fd_, frame_.data(), static_cast<size_t>(*copied));
      } while (written < 0 && errno == EINTR);
      // EAGAIN: the tap's queue is full; anything else (the interface is down, say): either way
      // a NIC drops the frame and the guest's stack recovers.
      sent = written >= 0;
    }
    if (!sent) ++tx_dropped_;
    if (auto used = tx.push_used(chain.head, 0); !used) return fail(std::move(used).error());
    note_used(tx);
  }
}

void NetDevice::receive() {
  if (!running() || rx_starved_ || tap_closed_) return;
  Virtqueue& rx = activation_->queues[kRxQueue];
  if (!rx.ready()) {
    rx_starved_ = true;
    return;
  }
  for (int frames = 0; frames < kRxFrameBudget && running(); ++frames) {
    if (!rx_chain_) {
      auto popped = rx.pop();
      if (!popped) return fail(std::move(popped).error());
      if (!*popped) {
        rx_starved_ = true;  // frames wait in the tap until the guest posts buffers
        return;
      }
      rx_chain_ = std::move(**popped);
    }
    ssize_t got = ::read(tap_fd_, frame_.data(), frame_.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // the chain waits for the next frame
    if (got <= 0) {
      if (got < 0) log::warning(Error::from_errno("virtio-net: read from the tap").message());
      tap_closed_ = true;
      return;
    }
    uint64_t total = kHeaderSize + static_cast<uint64_t>(got);
    if (total > rx_chain_->writable_bytes()) {
      ++rx_dropped_;  // the chain stays for the next frame
      continue;
    }
    const NetHeader header;
    auto written = rx.write_to(*rx_chain_, 0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&header), sizeof header));
    if (!written) return fail(std::move(written).error());
    written = rx.write_to(*rx_chain_, kHeaderSize, std::span<const uint8_t>(frame_.data(), static_cast<size_t>(got)));
    if (!written) return fail(std::move(written).error());
    if (auto used = rx.push_used(rx_chain_->head, static_cast<uint32_t>(total)); !used)
      return fail(std::move(used).error());
    note_used(rx);
    rx_chain_.reset();
  }
}

void NetDevice::update_watch() {
  bool wanted = running() && !rx_starved_ && !tap_closed_;
  if (wanted == registered_) return;
  // Unregistered rather than an empty mask: epoll reports EPOLLHUP regardless of the mask.
  if (!wanted) {
    loop_.remove(tap_fd_);
    registered_ = false;
    return;
  }
  if (auto added = loop_.add(tap_fd_, EPOLLIN, [this](uint32_t events) { on_tap_events(events); }); !added) {
    log::warning("virtio-net: " + added.error().message());
    return;
  }
  registered_ = true;
}

}  // namespace podrt::vmm
