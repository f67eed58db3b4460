#include "common/guest_protocol/frame.h"

#include <cstdio>

namespace podrt::guest_protocol {
namespace {

constexpr uint8_t kMagic0 = 'P';
constexpr uint8_t kMagic1 = 'D';

}  // namespace

bool is_known_type(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kConfig:
    case FrameType::kSignal:
    case FrameType::kStdin:
    case FrameType::kResize:
    case FrameType::kExec:
    case FrameType::kExecExited:
    case FrameType::kHello:
    case FrameType::kStdout:
    case FrameType::kStderr:
    case FrameType::kAppExited:
    case FrameType::kPodExited:
    case FrameType::kFailure:
      return true;
  }
  return false;
}

std::string encode_frame(FrameType type, uint8_t channel, std::string_view payload) {
  std::string frame;
  frame.reserve(kHeaderSize + payload.size());
  auto length = static_cast<uint32_t>(payload.size());
  frame.push_back(static_cast<char>(kMagic0));
  frame.push_back(static_cast<char>(kMagic1));
  frame.push_back(static_cast<char>(type));
  frame.push_back(static_cast<char>(channel));
  for (int shift = 0; shift < 32; shift += 8) frame.push_back(static_cast<char>((length >> shift) & 0xff));
  frame.append(payload);
  return frame;
}

void FrameDecoder::feed(const char* data, size_t size) {
  if (error_) return;
  // Drop what was consumed before growing, so the buffer never holds more than one frame's
  // worth beyond what the caller fed since the last next().
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(data, size);
}

Result<std::optional<Frame>> FrameDecoder::next() {
  if (error_) return Error::invalid(*error_);
  if (buffered() < kHeaderSize) return std::optional<Frame>{};
  const auto* header = reinterpret_cast<const uint8_t*>(buffer_.data() + consumed_);
  auto fail = [&](std::string message) -> Result<std::optional<Frame>> {
    error_ = "control channel: " + message;
    return Error::invalid(*error_);
  };
  if (header[0] != kMagic0 || header[1] != kMagic1) {
    char magic[8];
    std::snprintf(magic, sizeof magic, "%02x%02x", header[0], header[1]);
    return fail(std::string("bad frame magic 0x") + magic);
  }
  if (!is_known_type(header[2])) return fail("unknown frame type " + std::to_string(header[2]));
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= static_cast<uint32_t>(header[4 + i]) << (8 * i);
  if (length > kMaxPayload)
    return fail("frame of " + std::to_string(length) + " bytes (at most " +
                std::to_string(kMaxPayload) + ")");
  if (buffered() < kHeaderSize + length) return std::optional<Frame>{};
  Frame frame;
  frame.type = static_cast<FrameType>(header[2]);
  frame.channel = header[3];
  frame.payload.assign(buffer_, consumed_ + kHeaderSize, length);
  consumed_ += kHeaderSize + length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return std::optional<Frame>{std::move(frame)};
}

}  // namespace podrt::guest_protocol
