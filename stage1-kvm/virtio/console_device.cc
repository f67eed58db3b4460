#include "stage1-kvm/virtio/console_device.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"

namespace podrt::vmm {
namespace {

static_assert(std::endian::native == std::endian::little, "virtio 1.x structures are little-endian");

/// struct virtio_console_control (spec 5.3.6.2), optionally followed by a payload (a name).
struct ControlHeader {
  uint32_t id;
  uint16_t event;
  uint16_t value;
};
static_assert(sizeof(ControlHeader) == 8);

/// struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr.
constexpr uint64_t kConfigSize = 12;
constexpr uint64_t kMaxNrPortsOffset = 4;

/// One copy between the socket and guest memory.
constexpr size_t kChunkSize = 64 * 1024;
/// Per wakeup, so one busy direction cannot starve the loop's other fds; the rest continues on
/// the next epoll round (level-triggered, so readiness is reported again).
constexpr size_t kRxBudget = 256 * 1024;
constexpr size_t kTxBudget = 1024 * 1024;
/// Host -> guest control messages waiting for buffers. The handshake needs three; only a guest
/// that asks again and again without posting buffers gets near this.
constexpr size_t kMaxQueuedControlMessages = 32;

}  // namespace

Result<std::unique_ptr<ConsoleDevice>> ConsoleDevice::create(int socket_fd, EventLoop& loop) {
  const std::string what = "virtio-console on fd " + std::to_string(socket_fd);
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0)
    return Error::from_errno(what + ": not a socket");
  if (type != SOCK_STREAM) return Error::invalid(what + ": not a stream socket");
  int flags = ::fcntl(socket_fd, F_GETFL);
  if (flags < 0 || ::fcntl(socket_fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Error::from_errno(what + ": make it non-blocking");
  std::unique_ptr<ConsoleDevice> device(new ConsoleDevice(socket_fd, loop));
  device->rx_buffer_.resize(kChunkSize);
  return device;
}

ConsoleDevice::~ConsoleDevice() {
  if (registered_) loop_.remove(socket_fd_);
}

void ConsoleDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  uint8_t config[kConfigSize] = {};
  uint32_t max_ports = kMaxPorts;
  std::memcpy(config + kMaxNrPortsOffset, &max_ports, sizeof max_ports);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = offset < kConfigSize && i < kConfigSize - offset ? config[offset + i] : 0;
}

Result<void> ConsoleDevice::activate(uint64_t negotiated_features, VirtioActivation activation) {
  if (!(negotiated_features & kFeatureMultiport))
    return Error::invalid("virtio-console: the driver did not accept VIRTIO_CONSOLE_F_MULTIPORT");
  if (activation.memory == nullptr || activation.queues.size() < queue_count())
    return Error::invalid("virtio-console: activated with " + std::to_string(activation.queues.size()) +
                          " queues, needs " + std::to_string(queue_count()));
  std::lock_guard lock(mutex_);
  activation_ = std::move(activation);
  failed_ = false;
  guest_port_ready_ = false;
  guest_port_open_ = false;
  rx_starved_ = false;
  // Nothing to do until the driver's DEVICE_READY; bytes left from before a reset still flush.
  update_watch();
  return ok();
}

void ConsoleDevice::reset() {
  std::lock_guard lock(mutex_);
  activation_.reset();
  failed_ = false;
  guest_port_ready_ = false;
  guest_port_open_ = false;
  control_out_.clear();
  tx_chain_.reset();
  tx_chain_offset_ = 0;
  rx_chain_.reset();
  rx_starved_ = false;
  update_watch();
}

bool ConsoleDevice::guest_port_open() const {
  std::lock_guard lock(mutex_);
  return guest_port_open_;
}

bool ConsoleDevice::host_connected() const {
  std::lock_guard lock(mutex_);
  return !read_closed_ && !write_broken_;
}

bool ConsoleDevice::output_pending() const {
  std::lock_guard lock(mutex_);
  if (!running() || write_broken_) return false;
  return tx_pending_sent_ < tx_pending_.size() || tx_chain_.has_value();
}

void ConsoleDevice::queue_notified(uint16_t index) {
  std::lock_guard lock(mutex_);
  if (!running()) return;
  switch (index) {
    case kControlTxQueue:
      process_control_tx();
      fill_rx();  // the guest may just have opened the port
      break;
    case kPortRxQueue:
      rx_starved_ = false;
      fill_rx();
      break;
    case kPortTxQueue:
      drain_tx();
      break;
    default:  // control rx is flushed below; port 0 is never added, its queues carry nothing
      break;
  }
  flush_control_rx();
  update_watch();
  flush_interrupt();
}

void ConsoleDevice::on_socket_events(uint32_t events) {
  std::lock_guard lock(mutex_);
  // Errors and hangups are reported whatever was asked for: let the read or write find them.
  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) drain_tx();
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) fill_rx();
  flush_control_rx();
  update_watch();
  flush_interrupt();
}

void ConsoleDevice::flush_interrupt() {
  // The transport's callbacks take no lock, so they are called with ours held.
  if (interrupt_pending_ && activation_) activation_->signal_used();
  interrupt_pending_ = false;
}

void ConsoleDevice::note_used(const Virtqueue& queue) {
  if (!queue.interrupt_suppressed()) interrupt_pending_ = true;
}

void ConsoleDevice::fail(Error error) {
  if (failed_ || !activation_) return;
  failed_ = true;
  tx_chain_.reset();
  rx_chain_.reset();
  activation_->fail(std::move(error).with_context("virtio-console"));
}

void ConsoleDevice::process_control_tx() {
  Virtqueue& control = queue(kControlTxQueue);
  if (!control.ready()) return;
  // Linux spins on its vCPU until each control message comes back used: answer at once.
  while (running()) {
    auto popped = control.pop();
    if (!popped) return fail(std::move(popped).error());
    if (!*popped) return;
    const DescriptorChain& chain = **popped;
    uint8_t message[sizeof(ControlHeader)];
    auto copied = control.read_from(chain, 0, message);
    if (!copied) return fail(std::move(copied).error());
    // A message shorter than its header means nothing; it is given back and ignored.
    if (*copied == sizeof message) handle_control_message(message);
    if (auto used = control.push_used(chain.head, 0); !used) return fail(std::move(used).error());
    note_used(control);
  }
}

void ConsoleDevice::handle_control_message(std::span<const uint8_t> message) {
  ControlHeader header;
  std::memcpy(&header, message.data(), sizeof header);
  switch (header.event) {
    case kDeviceReady:
      if (header.value == 0) {
        log::warning("virtio-console: the guest driver failed to set up the device");
        return;
      }
      queue_control_message(kDeviceAdd, 1);
      return;
    case kPortReady:
      if (header.id != kControlPort) return;
      if (header.value == 0) {
        log::warning("virtio-console: the guest driver failed to add port " + std::string(kControlPortName));
        return;
      }
      guest_port_ready_ = true;
      {
        // The name goes NUL-terminated, as QEMU sends it; Linux stops at the NUL.
        std::string name(kControlPortName);
        name.push_back('\0');
        queue_control_message(kPortName, 1, name);
      }
      queue_control_message(kPortOpen, !read_closed_ && !write_broken_ ? 1 : 0);
      return;
    case kPortOpen:
      if (header.id != kControlPort || !guest_port_ready_) return;
      guest_port_open_ = header.value != 0;
      if (guest_port_open_) rx_starved_ = false;
      return;
    default:  // no console port, no resizes; other events are the device's to send
      return;
  }
}

void ConsoleDevice::queue_control_message(uint16_t event, uint16_t value, std::string_view payload) {
  if (control_out_.size() >= kMaxQueuedControlMessages) {
    log::debug("virtio-console: the guest posts no control buffers; a control message is dropped");
    return;
  }
  ControlHeader header{.id = kControlPort, .event = event, .value = value};
  std::vector<uint8_t> message(sizeof header + payload.size());
  std::memcpy(message.data(), &header, sizeof header);
  if (!payload.empty()) std::memcpy(message.data() + sizeof header, payload.data(), payload.size());
  control_out_.push_back(std::move(message));
}

void ConsoleDevice::flush_control_rx() {
  if (!running() || control_out_.empty()) return;
  Virtqueue& control = queue(kControlRxQueue);
  if (!control.ready()) return;
  while (running() && !control_out_.empty()) {
    auto popped = control.pop();
    if (!popped) return fail(std::move(popped).error());
    if (!*popped) return;  // the guest's next control rx notify brings us back
    const DescriptorChain& chain = **popped;
    // Linux posts a page per message; a smaller buffer gets what fits.
    auto written = control.write_to(chain, 0, control_out_.front());
    if (!written) return fail(std::move(written).error());
    if (auto used = control.push_used(chain.head, static_cast<uint32_t>(*written)); !used)
      return fail(std::move(used).error());
    note_used(control);
    control_out_.pop_front();
  }
}

void ConsoleDevice::host_closed() {
  if (guest_port_ready_ && running()) queue_control_message(kPortOpen, 0);
}

void ConsoleDevice::drain_tx() {
  tx_blocked_ = false;
  size_t budget = kTxBudget;
  for (;;) {
    if (tx_pending_sent_ < tx_pending_.size()) {
      if (write_broken_) {
        tx_pending_sent_ = tx_pending_.size();  // nobody left to read it
        continue;
      }
      if (budget == 0) {
        // Yield to the loop: EPOLLOUT on a writable socket calls back on its next round.
        tx_blocked_ = true;
        return;
      }
      size_t length = std::min(tx_pending_.size() - tx_pending_sent_, budget);
      ssize_t sent = ::send(socket_fd_, tx_pending_.data() + tx_pending_sent_, length, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          tx_blocked_ = true;  // backpressure: the chain stays ours until its bytes are out
          return;
        }
        if (errno != EPIPE && errno != ECONNRESET)
          log::warning(Error::from_errno("virtio-console: write to the control socket").message());
        bool was_connected = !read_closed_ && !write_broken_;
        write_broken_ = true;
        if (was_connected) host_closed();
        continue;
      }
      tx_pending_sent_ += static_cast<size_t>(sent);
      budget -= static_cast<size_t>(sent);
      continue;
    }
    tx_pending_.clear();
    tx_pending_sent_ = 0;
    if (!running()) return;
    Virtqueue& tx = queue(kPortTxQueue);
    if (!tx.ready()) return;
    if (tx_chain_) {
      uint64_t readable = tx_chain_->readable_bytes();
      if (tx_chain_offset_ < readable && !write_broken_) {
        tx_pending_.resize(static_cast<size_t>(std::min<uint64_t>(readable - tx_chain_offset_, kChunkSize)));
        auto copied = tx.read_from(*tx_chain_, tx_chain_offset_, tx_pending_);
        if (!copied) return fail(std::move(copied).error());
        tx_pending_.resize(static_cast<size_t>(*copied));
        // Never expected (readable_bytes() said there was more); do not spin if it happens.
        tx_chain_offset_ = *copied == 0 ? readable : tx_chain_offset_ + *copied;
        continue;
      }
      if (auto used = tx.push_used(tx_chain_->head, 0); !used) return fail(std::move(used).error());
      note_used(tx);
      tx_chain_.reset();
      tx_chain_offset_ = 0;
      continue;
    }
    auto popped = tx.pop();
    if (!popped) return fail(std::move(popped).error());
    if (!*popped) return;
    tx_chain_ = std::move(**popped);
    tx_chain_offset_ = 0;
  }
}

void ConsoleDevice::fill_rx() {
  if (!running() || !guest_port_open_ || read_closed_ || rx_starved_) return;
  Virtqueue& rx = queue(kPortRxQueue);
  if (!rx.ready()) {
    rx_starved_ = true;
    return;
  }
  size_t budget = kRxBudget;
  while (running() && budget > 0) {
    if (!rx_chain_) {
      auto popped = rx.pop();
      if (!popped) return fail(std::move(popped).error());
      if (!*popped) {
        rx_starved_ = true;  // the host's data waits in the socket until the guest posts buffers
        return;
      }
      rx_chain_ = std::move(**popped);
    }
    uint64_t room = rx_chain_->writable_bytes();
    if (room > 0) {
      // Never read more than the posted buffer holds: what is read is always delivered.
      size_t want = static_cast<size_t>(std::min<uint64_t>({room, rx_buffer_.size(), budget}));
      ssize_t got = ::read(socket_fd_, rx_buffer_.data(), want);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // keep the chain for the next EPOLLIN
        log::warning(Error::from_errno("virtio-console: read from the control socket").message());
      }
      if (got <= 0) {
        bool was_connected = !read_closed_ && !write_broken_;
        read_closed_ = true;
        if (was_connected) host_closed();
        return;
      }
      auto written = rx.write_to(*rx_chain_, 0, std::span<const uint8_t>(rx_buffer_.data(), static_cast<size_t>(got)));
      if (!written) return fail(std::move(written).error());
      room = *written;
      budget -= static_cast<size_t>(got);
    }
    // A chain with no writable buffer goes back empty.
    if (auto used = rx.push_used(rx_chain_->head, static_cast<uint32_t>(room)); !used)
      return fail(std::move(used).error());
    note_used(rx);
    rx_chain_.reset();
  }
}

void ConsoleDevice::update_watch() {
  uint32_t wanted = 0;
  if (running() && guest_port_open_ && !read_closed_ && !rx_starved_) wanted |= EPOLLIN;
  if (tx_blocked_ && !write_broken_) wanted |= EPOLLOUT;
  // Unregister rather than watch nothing: epoll reports EPOLLHUP even on an empty mask, and a
  // closed peer would then wake the loop forever.
  if (wanted == 0) {
    if (registered_) loop_.remove(socket_fd_);
    registered_ = false;
    return;
  }
  if (!registered_) {
    auto added = loop_.add(socket_fd_, wanted, [this](uint32_t events) { on_socket_events(events); });
    if (!added) {
      log::warning("virtio-console: " + added.error().message());
      return;
    }
    registered_ = true;
  } else if (wanted != watched_) {
    if (auto modified = loop_.modify(socket_fd_, wanted); !modified) {
      log::warning("virtio-console: " + modified.error().message());
      return;
    }
  }
  watched_ = wanted;
}

}  // namespace podrt::vmm
