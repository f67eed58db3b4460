#include "stage1-kvm/devices/serial_8250.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace podrt::vmm {
namespace {

// IER bits (the upper four do not exist on a 16550A and read as 0: Linux's probe checks that).
constexpr uint8_t kIerReceivedData = 0x01;
constexpr uint8_t kIerTransmitterEmpty = 0x02;
constexpr uint8_t kIerLineStatus = 0x04;
constexpr uint8_t kIerModemStatus = 0x08;
constexpr uint8_t kIerDefinedBits = 0x0f;

// IIR values, highest priority first, and the FIFO-enabled bits.
constexpr uint8_t kIirLineStatus = 0x06;
constexpr uint8_t kIirReceivedData = 0x04;
constexpr uint8_t kIirTransmitterEmpty = 0x02;
constexpr uint8_t kIirModemStatus = 0x00;
constexpr uint8_t kIirNone = 0x01;
constexpr uint8_t kIirFifosEnabled = 0xc0;

// FCR bits; of the rest only the receive trigger level (bits 6-7) is kept, and it has no effect.
constexpr uint8_t kFcrEnableFifos = 0x01;
constexpr uint8_t kFcrClearReceiver = 0x02;
constexpr uint8_t kFcrKeptBits = 0xc1;

constexpr uint8_t kLcrDivisorLatch = 0x80;

// MCR bits; in loopback they drive the modem status inputs.
constexpr uint8_t kMcrDtr = 0x01;
constexpr uint8_t kMcrRts = 0x02;
constexpr uint8_t kMcrOut1 = 0x04;
constexpr uint8_t kMcrOut2 = 0x08;
constexpr uint8_t kMcrLoopback = 0x10;
constexpr uint8_t kMcrDefinedBits = 0x1f;

constexpr uint8_t kLsrDataReady = 0x01;
constexpr uint8_t kLsrOverrun = 0x02;
constexpr uint8_t kLsrTransmitterHoldingEmpty = 0x20;
constexpr uint8_t kLsrTransmitterEmpty = 0x40;

// MSR: the lines (upper nibble) and their change bits (lower nibble).
constexpr uint8_t kMsrDeltaCts = 0x01;
constexpr uint8_t kMsrDeltaDsr = 0x02;
constexpr uint8_t kMsrTrailingEdgeRi = 0x04;
constexpr uint8_t kMsrDeltaDcd = 0x08;
constexpr uint8_t kMsrCts = 0x10;
constexpr uint8_t kMsrDsr = 0x20;
constexpr uint8_t kMsrRi = 0x40;
constexpr uint8_t kMsrDcd = 0x80;
/// Outside loopback the "modem" is always there and ready: carrier, data set ready, clear to send.
constexpr uint8_t kMsrConnected = kMsrDcd | kMsrDsr | kMsrCts;

constexpr size_t kReadChunk = 256;
constexpr uint32_t kWatchInput = EPOLLIN;
constexpr uint32_t kWatchOutput = EPOLLOUT;

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK;
}

}  // namespace

Result<std::shared_ptr<Serial8250>> Serial8250::create(int host_fd, EventLoop& loop, InterruptLine& interrupt) {
  const std::string what = "serial console fd " + std::to_string(host_fd);
  struct stat st{};
  if (::fstat(host_fd, &st) != 0) return Error::from_errno(what);
  int flags = ::fcntl(host_fd, F_GETFL);
  if (flags < 0) return Error::from_errno(what);

  std::shared_ptr<Serial8250> serial(new Serial8250(loop, interrupt));
  bool socket = S_ISSOCK(st.st_mode);
  bool pipe = S_ISFIFO(st.st_mode);
  int access = flags & O_ACCMODE;

  // Output. A socket takes MSG_DONTWAIT per call. A pipe or terminal gets an open file
  // description of our own made non-blocking, so the flag does not change the fd other
  // processes share (stderr, say); where that fails, and for files, plain writes it is.
  serial->output_fd_ = host_fd;
  serial->output_is_socket_ = socket;
  if (!socket && (pipe || S_ISCHR(st.st_mode)) && access != O_RDONLY) {
    std::string path = "/proc/self/fd/" + std::to_string(host_fd);
    UniqueFd reopened(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (reopened) {
      serial->output_fd_ = reopened.get();
      serial->owned_output_ = std::move(reopened);
    }
  }
  if (access == O_RDONLY) serial->output_open_ = false;

  // Input: sockets and pipes only. A terminal (a character device) stays output-only.
  if ((socket || pipe) && access != O_WRONLY) {
    serial->input_fd_ = host_fd;
    serial->input_is_socket_ = socket;
  }
  serial->input_watch_.fd = serial->input_fd_;
  serial->output_watch_.fd = serial->output_fd_;

  std::lock_guard lock(serial->mutex_);
  PODRT_TRY_CONTEXT(serial->update_watches_locked(), what);
  return serial;
}

Serial8250::~Serial8250() {
  std::lock_guard lock(mutex_);
  (void)set_watch_locked(input_watch_, 0);
  (void)set_watch_locked(output_watch_, 0);
}

uint64_t Serial8250::dropped_output_bytes() const {
  std::lock_guard lock(mutex_);
  return dropped_output_;
}

void Serial8250::read(uint64_t offset, std::span<uint8_t> data) {
  bool raise;
  {
    std::lock_guard lock(mutex_);
    bool before = interrupt_asserted_locked();
    for (size_t i = 0; i < data.size(); ++i) data[i] = read_register_locked(offset + i);
    raise = !before && interrupt_asserted_locked();
  }
  if (raise) interrupt_->trigger();
}

void Serial8250::write(uint64_t offset, std::span<const uint8_t> data) {
  bool raise;
  {
    std::lock_guard lock(mutex_);
    bool before = interrupt_asserted_locked();
    for (size_t i = 0; i < data.size(); ++i) write_register_locked(offset + i, data[i]);
    raise = !before && interrupt_asserted_locked();
  }
  if (raise) interrupt_->trigger();
}

uint8_t Serial8250::read_register_locked(uint64_t offset) {
  bool divisor_latch = (line_control_ & kLcrDivisorLatch) != 0;
  switch (offset) {
    case kData: {
      if (divisor_latch) return divisor_low_;
      if (receive_fifo_.empty()) return 0;
      uint8_t byte = receive_fifo_.front();
      bool was_full = receive_fifo_.size() >= kReceiveCapacity;
      receive_fifo_.pop_front();
      if (was_full) (void)update_watches_locked();  // room again: resume reading the host
      return byte;
    }
    case kInterruptEnable:
      return divisor_latch ? divisor_high_ : interrupt_enable_;
    case kInterruptId: {
      uint8_t id = pending_interrupt_locked();
      // Reading the IIR acknowledges a THRE interrupt, if that is the one it reports.
      if (id == kIirTransmitterEmpty) transmitter_empty_interrupt_ = false;
      return id | ((fifo_control_ & kFcrEnableFifos) ? kIirFifosEnabled : 0);
    }
    case kLineControl:
      return line_control_;
    case kModemControl:
      return modem_control_;
    case kLineStatus: {
      uint8_t status = kLsrTransmitterHoldingEmpty | kLsrTransmitterEmpty;
      if (!receive_fifo_.empty()) status |= kLsrDataReady;
      if (overrun_) status |= kLsrOverrun;
      overrun_ = false;  // error bits clear on read
      return status;
    }
    case kModemStatus: {
      uint8_t status = modem_status_lines_locked() | modem_status_deltas_;
      modem_status_deltas_ = 0;
      return status;
    }
    case kScratch:
      return scratch_;
    default:
      return 0xff;
  }
}

void Serial8250::write_register_locked(uint64_t offset, uint8_t value) {
  bool divisor_latch = (line_control_ & kLcrDivisorLatch) != 0;
  switch (offset) {
    case kData:
      if (divisor_latch) {
        divisor_low_ = value;
        return;
      }
      if (loopback_locked()) {
        if (receive_fifo_.size() < kLoopbackCapacity)
          receive_fifo_.push_back(value);
        else
          overrun_ = true;
      } else {
        transmit_locked(value);
      }
      // The byte left at once: THR is empty again, so its interrupt is due again.
      transmitter_empty_interrupt_ = (interrupt_enable_ & kIerTransmitterEmpty) != 0;
      return;
    case kInterruptEnable: {
      if (divisor_latch) {
        divisor_high_ = value;
        return;
      }
      uint8_t previous = interrupt_enable_;
      interrupt_enable_ = value & kIerDefinedBits;
      // THR is always empty, so enabling its interrupt raises it at once (Linux tests this).
      if (!(interrupt_enable_ & kIerTransmitterEmpty))
        transmitter_empty_interrupt_ = false;
      else if (!(previous & kIerTransmitterEmpty))
        transmitter_empty_interrupt_ = true;
      return;
    }
    case kInterruptId: {  // FCR
      bool toggled = ((fifo_control_ ^ value) & kFcrEnableFifos) != 0;
      fifo_control_ = value & kFcrKeptBits;
      // Switching the FIFOs on or off empties them, as does the clear bit.
      if (toggled || (value & kFcrClearReceiver)) {
        receive_fifo_.clear();
        overrun_ = false;
        (void)update_watches_locked();
      }
      return;
    }
    case kLineControl:
      line_control_ = value;
      return;
    case kModemControl:
      write_modem_control_locked(value);
      return;
    case kScratch:
      scratch_ = value;
      return;
    default:  // LSR and MSR are read-only
      return;
  }
}

void Serial8250::write_modem_control_locked(uint8_t value) {
  uint8_t lines_before = modem_status_lines_locked();
  bool loopback_before = loopback_locked();
  modem_control_ = value & kMcrDefinedBits;
  uint8_t lines = modem_status_lines_locked();
  uint8_t changed = lines_before ^ lines;
  if (changed & kMsrCts) modem_status_deltas_ |= kMsrDeltaCts;
  if (changed & kMsrDsr) modem_status_deltas_ |= kMsrDeltaDsr;
  if ((lines_before & kMsrRi) && !(lines & kMsrRi)) modem_status_deltas_ |= kMsrTrailingEdgeRi;
  if (changed & kMsrDcd) modem_status_deltas_ |= kMsrDeltaDcd;
  // In loopback the receiver hears the transmitter only: host input waits until it ends.
  if (loopback_before != loopback_locked()) (void)update_watches_locked();
}

uint8_t Serial8250::modem_status_lines_locked() const {
  if (!loopback_locked()) return kMsrConnected;
  uint8_t lines = 0;
  if (modem_control_ & kMcrRts) lines |= kMsrCts;
  if (modem_control_ & kMcrDtr) lines |= kMsrDsr;
  if (modem_control_ & kMcrOut1) lines |= kMsrRi;
  if (modem_control_ & kMcrOut2) lines |= kMsrDcd;
  return lines;
}

bool Serial8250::loopback_locked() const {
  return (modem_control_ & kMcrLoopback) != 0;
}

uint8_t Serial8250::pending_interrupt_locked() const {
  if ((interrupt_enable_ & kIerLineStatus) && overrun_) return kIirLineStatus;
  if ((interrupt_enable_ & kIerReceivedData) && !receive_fifo_.empty()) return kIirReceivedData;
  if ((interrupt_enable_ & kIerTransmitterEmpty) && transmitter_empty_interrupt_) return kIirTransmitterEmpty;
  if ((interrupt_enable_ & kIerModemStatus) && modem_status_deltas_) return kIirModemStatus;
  return kIirNone;
}

bool Serial8250::interrupt_asserted_locked() const {
  return pending_interrupt_locked() != kIirNone;
}

void Serial8250::transmit_locked(uint8_t byte) {
  if (!output_open_ || transmit_queue_.size() >= kTransmitCapacity) {
    ++dropped_output_;
    return;
  }
  transmit_queue_.push_back(byte);
  // With nothing queued before, try to send now; otherwise the loop is already waiting for
  // the host to take what is queued, and this byte goes with it.
  if (transmit_queue_.size() == 1) {
    flush_output_locked();
    (void)update_watches_locked();
  }
}

void Serial8250::flush_output_locked() {
  size_t sent = 0;
  while (sent < transmit_queue_.size()) {
    const uint8_t* data = transmit_queue_.data() + sent;
    size_t size = transmit_queue_.size() - sent;
    ssize_t written = output_is_socket_ ? ::send(output_fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL)
                                        : ::write(output_fd_, data, size);
    if (written > 0) {
      sent += static_cast<size_t>(written);
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && would_block(errno)) break;
    // EPIPE, ECONNRESET and the like: nobody reads the console any more.
    output_open_ = false;
    dropped_output_ += transmit_queue_.size() - sent;
    sent = transmit_queue_.size();
  }
  transmit_queue_.erase(transmit_queue_.begin(), transmit_queue_.begin() + static_cast<ptrdiff_t>(sent));
}

void Serial8250::receive_input_locked() {
  while (input_fd_ >= 0 && receive_fifo_.size() < kReceiveCapacity) {
    uint8_t chunk[kReadChunk];
    size_t room = std::min(kReadChunk, kReceiveCapacity - receive_fifo_.size());
    ssize_t count = input_is_socket_ ? ::recv(input_fd_, chunk, room, MSG_DONTWAIT) : ::read(input_fd_, chunk, room);
    if (count > 0) {
      receive_fifo_.insert(receive_fifo_.end(), chunk, chunk + count);
      // A pipe may be a shared, blocking description: one read per readiness, never one that
      // could wait. The loop calls again while more is there.
      if (!input_is_socket_) break;
      continue;
    }
    if (count < 0 && errno == EINTR) continue;
    if (count < 0 && would_block(errno)) break;
    input_fd_ = -1;  // end of input, or an error that will not go away
  }
}

void Serial8250::host_ready(int fd, uint32_t events) {
  bool raise;
  {
    std::lock_guard lock(mutex_);
    bool before = interrupt_asserted_locked();
    bool trouble = (events & (EPOLLHUP | EPOLLERR)) != 0;
    if (fd == input_fd_ && (events & EPOLLIN || trouble) && !loopback_locked()) receive_input_locked();
    if (fd == output_fd_ && (events & EPOLLOUT || trouble) && output_open_) flush_output_locked();
    (void)update_watches_locked();
    raise = !before && interrupt_asserted_locked();
  }
  if (raise) interrupt_->trigger();
}

// Callers on the vCPU and loop threads ignore a failure: the watch stays as it was and the next
// change of state tries again. Only create() reports one.
Result<void> Serial8250::update_watches_locked() {
  uint32_t input = input_fd_ >= 0 && !loopback_locked() && receive_fifo_.size() < kReceiveCapacity ? kWatchInput : 0;
  uint32_t output = output_open_ && !transmit_queue_.empty() ? kWatchOutput : 0;
  if (input_watch_.fd >= 0 && input_watch_.fd == output_watch_.fd) {
    return set_watch_locked(input_watch_, input | output);
  }
  PODRT_TRY(set_watch_locked(input_watch_, input));
  return set_watch_locked(output_watch_, output);
}

Result<void> Serial8250::set_watch_locked(Watch& watch, uint32_t events) {
  if (watch.fd < 0 || watch.events == events) return ok();
  // Watching nothing means not being registered at all: epoll reports a hang-up even for an
  // empty event mask, and the loop would spin on it.
  if (events == 0) {
    loop_->remove(watch.fd);
  } else if (watch.events == 0) {
    int fd = watch.fd;
    auto callback = [weak = weak_from_this(), fd](uint32_t ready) {
      if (auto self = weak.lock()) self->host_ready(fd, ready);
    };
    PODRT_TRY(loop_->add(fd, events, std::move(callback)));
  } else {
    PODRT_TRY(loop_->modify(watch.fd, events));
  }
  watch.events = events;
  return ok();
}

}  // namespace podrt::vmm
