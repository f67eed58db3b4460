// guest-init's end of the control channel, over a socketpair.
#include <sys/socket.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "guest-init/control_channel.h"
#include "tests/unit/guest-init/host_end.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::Frame;
using guest_protocol::FrameType;
using guest_protocol::kHeaderSize;
using guest_protocol::kMaxPayload;
using testing::HostEnd;

std::string pattern(size_t size) {
  std::string text;
  for (size_t i = 0; i < size; ++i) text.push_back(static_cast<char>((i * 7 + i / 251) & 0xff));
  return text;
}

TEST(GuestInitControlChannel, SplitsAPayloadIntoFramesOfAtMostMaxPayload) {
  auto [host, channel] = HostEnd::connect();
  const std::string payload = pattern(2 * kMaxPayload + 1000);
  channel.queue(FrameType::kStdout, 3, payload);
  EXPECT_EQ(channel.pending(), payload.size() + 3 * kHeaderSize);
  std::thread reader([&, &host = host] {
    std::vector<Frame> frames = host.read_until(FrameType::kPodExited);
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[0].payload.size(), kMaxPayload);
    EXPECT_EQ(frames[1].payload.size(), kMaxPayload);
    EXPECT_EQ(frames[2].payload.size(), 1000u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(frames[i].type, FrameType::kStdout);
      EXPECT_EQ(frames[i].channel, 3);
    }
    EXPECT_EQ(testing::stream_of(frames, FrameType::kStdout, 3), payload);
  });
  channel.queue(FrameType::kPodExited, 0, "0");
  ASSERT_TRUE(channel.flush_all());
  EXPECT_EQ(channel.pending(), 0u);
  reader.join();
}

TEST(GuestInitControlChannel, AnEmptyPayloadIsStillAFrame) {
  auto [host, channel] = HostEnd::connect();
  ASSERT_TRUE(channel.send(FrameType::kHello, 0, ""));
  std::vector<Frame> frames = host.read_until(FrameType::kHello);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "");
}

TEST(GuestInitControlChannel, FlushAllWaitsForASlowReader) {
  auto [host, channel] = HostEnd::connect();
  int small = 4096;
  ASSERT_EQ(::setsockopt(channel.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  const std::string payload = pattern(1 << 20);
  channel.queue(FrameType::kStderr, 1, payload);
  ASSERT_TRUE(channel.flush_some());
  EXPECT_GT(channel.pending(), 0u) << "the socket took 1 MiB at once";
  std::thread reader([&, &host = host] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(testing::stream_of(host.read_until(FrameType::kPodExited), FrameType::kStderr, 1),
              payload);
  });
  channel.queue(FrameType::kPodExited, 0, "0");
  ASSERT_TRUE(channel.flush_all());
  reader.join();
}

TEST(GuestInitControlChannel, WaitFrameAssemblesAFrameFromPieces) {
  auto [host, channel] = HostEnd::connect();
  std::string bytes = guest_protocol::encode_frame(FrameType::kConfig, 0, "{\"plan\":{}}");
  std::thread writer([&, &host = host] {
    for (char c : bytes) {
      host.send_raw(std::string(1, c));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto frame = channel.wait_frame();
  writer.join();
  ASSERT_TRUE(frame) << frame.error().message();
  EXPECT_EQ(frame->type, FrameType::kConfig);
  EXPECT_EQ(frame->payload, "{\"plan\":{}}");
}

TEST(GuestInitControlChannel, WaitFrameFailsWhenTheHostCloses) {
  auto [host, channel] = HostEnd::connect();
  host.send_raw(guest_protocol::encode_frame(FrameType::kSignal, 0, "15").substr(0, 5));
  host.close();
  auto frame = channel.wait_frame();
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().message(), "control channel: the host closed it");
}

TEST(GuestInitControlChannel, WaitFrameFailsOnABadFrame) {
  auto [host, channel] = HostEnd::connect();
  host.send_raw(std::string("XY\x01\0\0\0\0\0", 8));
  auto frame = channel.wait_frame();
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error().message(), "control channel: bad frame magic 0x5859");
}

}  // namespace
}  // namespace podrt::guest_init
