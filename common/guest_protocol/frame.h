// The control channel between stage1-kvm and guest-init (docs/guest-protocol.md): one byte
// stream (a virtio-console port, /dev/hvc0 in the guest) carrying frames. A frame is an 8-byte
// header — magic "PD", type, channel, payload length (little-endian u32) — then the payload.
// Both ends treat the other as untrusted: a bad magic, an unknown type or an oversized length
// ends the channel with an error, never a crash or an unbounded allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::guest_protocol {

enum class FrameType : uint8_t {
  // host -> guest
  kConfig = 1,   ///< JSON GuestConfig (guest_config.h); sent once, after kHello
  kSignal = 2,   ///< payload: the signal number in decimal; forwarded to every app
  kStdin = 3,    ///< bytes for the app's stdin (channel = app index); empty payload: EOF
  kResize = 4,   ///< payload "ROWS COLS": the terminal's window size (--interactive)
  kExec = 5,     ///< `podrt enter`: JSON {"app": NAME, "argv": [...]}; channel = the session
  // guest -> host
  kHello = 16,      ///< guest-init is up (the boot marker); payload: the guest's `uname -r`
  kStdout = 17,     ///< an app's stdout bytes (channel = app index)
  kStderr = 18,     ///< an app's stderr bytes (channel = app index)
  kAppExited = 19,  ///< JSON {"app": NAME, "code": N, "oom": BOOL}
  kPodExited = 20,  ///< payload: the pod's exit code in decimal; the last frame of a pod
  kFailure = 21,    ///< guest-init could not run the pod (channel 0: the pod ends 254) or an
                    ///< exec session (its channel): a one-line message
  kExecExited = 22, ///< an exec session's command ended: its exit code in decimal
};

/// Channels of stdio frames: below kFirstExecChannel an app's index in the plan; from it on,
/// a `podrt enter` session (kExec). kSignal on a session's channel signals its command only.
inline constexpr uint8_t kFirstExecChannel = 128;

/// Largest payload either side sends or accepts (the config can be large; output is sent in
/// smaller chunks).
inline constexpr size_t kMaxPayload = 1024 * 1024;
inline constexpr size_t kHeaderSize = 8;

struct Frame {
  FrameType type = FrameType::kHello;
  uint8_t channel = 0;
  std::string payload;
};

/// True for the types above.
bool is_known_type(uint8_t type);

/// The bytes of one frame; payload must be at most kMaxPayload bytes.
std::string encode_frame(FrameType type, uint8_t channel, std::string_view payload);

/// Splits a byte stream into frames, however the bytes arrive (one at a time or many frames at
/// once). After an error every later call returns the same error.
class FrameDecoder {
 public:
  void feed(const char* data, size_t size);
  /// The next complete frame, nullopt when more bytes are needed, or the stream's error
  /// ("control channel: bad frame magic 0x4142").
  Result<std::optional<Frame>> next();
  /// Bytes received but not yet returned as frames.
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
  std::optional<std::string> error_;
};

}  // namespace podrt::guest_protocol
