// HostEnd: the host's side of a control channel in tests, one end of a socketpair whose other
// end guest-init's ControlChannel takes. It writes frames and decodes what guest-init sent.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/guest_protocol/frame.h"
#include "common/unique_fd.h"
#include "guest-init/control_channel.h"

namespace podrt::guest_init::testing {

class HostEnd {
 public:
  /// A connected pair: this end, and the guest's ControlChannel.
  static std::pair<HostEnd, ControlChannel> connect() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    auto channel = ControlChannel::adopt(UniqueFd(fds[1]));
    EXPECT_TRUE(channel);
    return {HostEnd(UniqueFd(fds[0])), std::move(*channel)};
  }

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  void send(guest_protocol::FrameType type, const std::string& payload, uint8_t channel = 0) {
    send_raw(guest_protocol::encode_frame(type, channel, payload));
  }
  void send_raw(const std::string& bytes) {
    ASSERT_EQ(::write(fd_.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  /// Frames until one of type `last` (included), EOF, an error or `timeout_ms` of silence.
  std::vector<guest_protocol::Frame> read_until(guest_protocol::FrameType last,
                                                int timeout_ms = 10000) {
    std::vector<guest_protocol::Frame> frames;
    for (;;) {
      auto frame = decoder_.next();
      if (!frame) {
        ADD_FAILURE() << frame.error().message();
        return frames;
      }
      if (*frame) {
        frames.push_back(std::move(**frame));
        if (frames.back().type == last) return frames;
        continue;
      }
      pollfd entry{fd_.get(), POLLIN, 0};
      if (::poll(&entry, 1, timeout_ms) <= 0) return frames;
      char buffer[65536];
      ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
      if (n <= 0) return frames;
      decoder_.feed(buffer, static_cast<size_t>(n));
    }
  }

 private:
  explicit HostEnd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  guest_protocol::FrameDecoder decoder_;
};

/// The payloads of the frames of `type` on `channel`, concatenated.
inline std::string stream_of(const std::vector<guest_protocol::Frame>& frames,
                             guest_protocol::FrameType type, uint8_t channel = 0) {
  std::string out;
  for (const guest_protocol::Frame& frame : frames)
    if (frame.type == type && frame.channel == channel) out += frame.payload;
  return out;
}

}  // namespace podrt::guest_init::testing
