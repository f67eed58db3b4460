#include "common/guest_protocol/frame.h"

#include <gtest/gtest.h>

namespace podrt::guest_protocol {
namespace {

TEST(FrameDecoder, ReturnsFramesHoweverTheBytesArrive) {
  std::string stream = encode_frame(FrameType::kHello, 0, "6.1.0") +
                       encode_frame(FrameType::kStdout, 3, std::string(1000, 'x')) +
                       encode_frame(FrameType::kPodExited, 0, "");
  FrameDecoder decoder;
  std::vector<Frame> frames;
  for (char byte : stream) {  // one byte at a time: the worst split a stream can have
    decoder.feed(&byte, 1);
    auto frame = decoder.next();
    ASSERT_TRUE(frame) << frame.error().message();
    if (*frame) frames.push_back(**frame);
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].type, FrameType::kHello);
  EXPECT_EQ(frames[0].payload, "6.1.0");
  EXPECT_EQ(frames[1].channel, 3);
  EXPECT_EQ(frames[1].payload.size(), 1000u);
  EXPECT_EQ(frames[2].type, FrameType::kPodExited);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, ManyFramesInOneFeed) {
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += encode_frame(FrameType::kStderr, 1, std::to_string(i));
  FrameDecoder decoder;
  decoder.feed(stream.data(), stream.size());
  for (int i = 0; i < 50; ++i) {
    auto frame = decoder.next();
    ASSERT_TRUE(frame && *frame);
    EXPECT_EQ((*frame)->payload, std::to_string(i));
  }
  EXPECT_FALSE(*decoder.next());
}

TEST(FrameDecoder, BadMagicUnknownTypeAndHugeLengthEndTheStream) {
  std::string good = encode_frame(FrameType::kHello, 0, "x");
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  std::string unknown_type = good;
  unknown_type[2] = 99;
  std::string huge = good;
  huge[7] = 0x7f;  // a length of ~2 GiB: refused from the header, nothing allocated
  for (const auto& [bytes, expected] : std::vector<std::pair<std::string, std::string>>{
           {bad_magic, "bad frame magic"}, {unknown_type, "unknown frame type 99"}, {huge, "bytes (at most"}}) {
    FrameDecoder decoder;
    decoder.feed(bytes.data(), bytes.size());
    auto frame = decoder.next();
    ASSERT_FALSE(frame);
    EXPECT_NE(frame.error().message().find(expected), std::string::npos) << frame.error().message();
    // The error sticks: nothing after a broken frame is trusted.
    decoder.feed(good.data(), good.size());
    EXPECT_FALSE(decoder.next());
  }
}

}  // namespace
}  // namespace podrt::guest_protocol
