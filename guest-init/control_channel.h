// guest-init's end of the control channel (docs/guest-protocol.md): frames out through a
// queue, so that the event loop never blocks on a slow host while it still has input to take,
// and frames in through a FrameDecoder. The fd is non-blocking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/guest_protocol/frame.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::guest_init {

class ControlChannel {
 public:
  /// Takes `fd` (a tty in raw mode, or one end of a socketpair in tests) and makes it
  /// non-blocking.
  static Result<ControlChannel> adopt(UniqueFd fd);

  int fd() const { return fd_.get(); }

  /// Queues one frame per kMaxPayload bytes of `payload` (at least one: an empty payload is a
  /// frame too).
  void queue(guest_protocol::FrameType type, uint8_t channel, std::string_view payload);
  /// Bytes queued and not yet written.
  size_t pending() const { return out_.size() - written_; }
  /// Writes what the fd takes now, without blocking.
  Result<void> flush_some();
  /// Writes everything queued, waiting for the fd as long as it takes.
  Result<void> flush_all();
  /// queue() + flush_all().
  Result<void> send(guest_protocol::FrameType type, uint8_t channel, std::string_view payload);

  /// Reads what the fd has now into the decoder. False: the host's end is gone.
  Result<bool> read_some();
  /// The next complete frame read so far, or nullopt; a protocol error is final.
  Result<std::optional<guest_protocol::Frame>> next_frame() { return decoder_.next(); }
  /// Waits (blocking) until a whole frame arrived; an error when the channel ended first.
  Result<guest_protocol::Frame> wait_frame();

 private:
  explicit ControlChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string out_;
  size_t written_ = 0;
  guest_protocol::FrameDecoder decoder_;
};

/// Where the control channel may be. The host gives either a virtio console port (hvc0, a
/// tty) or a plain virtio-serial port with a name. Under QEMU only the plain port has flow
/// control: for a console port QEMU drops whatever its chardev does not take at once
/// (hw/char/virtio-console.c, flush_buf), so bulk output can lose bytes mid-frame.
struct ControlDevice {
  std::string console = "/dev/hvc0";
  std::string port_name = "podrt.control";         ///< QEMU: virtserialport,name=...
  std::string ports_dir = "/sys/class/virtio-ports";  ///< <port>/name holds each port's name
  std::string dev_dir = "/dev";                     ///< where <port> (vport0p1) lives
};

/// Opens the named port if there is one, else the console port in raw mode, waiting up to
/// `timeout_ms` for either to appear: virtio-console adds its ports from a work queue,
/// possibly after PID 1 started.
Result<UniqueFd> open_control_device(const ControlDevice& device, int timeout_ms);

}  // namespace podrt::guest_init
