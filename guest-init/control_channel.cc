#include "guest-init/control_channel.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/sys/file.h"
#include "guest-init/raw_terminal.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::FrameType;
using guest_protocol::kMaxPayload;

// Once the written prefix is this large, it is dropped so the queue does not only grow.
constexpr size_t kCompactAt = 256 * 1024;

Result<void> wait_for(int fd, short events) {
  pollfd entry{fd, events, 0};
  for (;;) {
    int ready = ::poll(&entry, 1, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Error::from_errno("wait for the control channel");
    // A virtio-serial port polls POLLHUP until the host's end connects, and its writes fail
    // with EAGAIN meanwhile: wait a little instead of spinning.
    if (!(entry.revents & events)) {
      timespec pause{0, 1000000};
      ::nanosleep(&pause, nullptr);
    }
    return ok();
  }
}

// /dev/<port> for the port whose sysfs name is device.port_name (no udev in the guest to make
// /dev/virtio-ports/<name>).
std::optional<std::string> find_named_port(const ControlDevice& device) {
  DIR* ports = ::opendir(device.ports_dir.c_str());
  if (ports == nullptr) return std::nullopt;
  std::optional<std::string> found;
  while (struct dirent* entry = ::readdir(ports)) {
    if (entry->d_name[0] == '.') continue;
    auto name = sys::read_file(device.ports_dir + "/" + entry->d_name + "/name");
    if (name && !name->empty() && name->back() == '\n') name->pop_back();
    if (name && *name == device.port_name) {
      found = device.dev_dir + "/" + entry->d_name;
      break;
    }
  }
  ::closedir(ports);
  return found;
}

int64_t now_ms() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

Result<ControlChannel> ControlChannel::adopt(UniqueFd fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
    return Error::from_errno("make the control channel non-blocking");
  return ControlChannel(std::move(fd));
}

void ControlChannel::queue(FrameType type, uint8_t channel, std::string_view payload) {
  if (written_ >= kCompactAt) {
    out_.erase(0, written_);
    written_ = 0;
  }
  do {
    std::string_view chunk = payload.substr(0, kMaxPayload);
    out_ += guest_protocol::encode_frame(type, channel, chunk);
    payload.remove_prefix(chunk.size());
  } while (!payload.empty());
}

Result<void> ControlChannel::flush_some() {
  while (pending() > 0) {
    ssize_t n = ::write(fd_.get(), out_.data() + written_, pending());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return Error::from_errno("write to the control channel");
    written_ += static_cast<size_t>(n);
  }
  if (pending() == 0) {
    out_.clear();
    written_ = 0;
  }
  return ok();
}

Result<void> ControlChannel::flush_all() {
  for (;;) {
    PODRT_TRY(flush_some());
    if (pending() == 0) return ok();
    PODRT_TRY(wait_for(fd_.get(), POLLOUT));
  }
}

Result<void> ControlChannel::send(FrameType type, uint8_t channel, std::string_view payload) {
  queue(type, channel, payload);
  return flush_all();
}

Result<bool> ControlChannel::read_some() {
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n > 0) {
      decoder_.feed(buffer, static_cast<size_t>(n));
      // Stop at one buffer's worth: the loop decodes before it reads more, so a flood from the
      // host costs at most one frame of memory beyond this.
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return true;
    if (errno == EIO) return false;  // a tty whose other end hung up
    return Error::from_errno("read from the control channel");
  }
}

Result<guest_protocol::Frame> ControlChannel::wait_frame() {
  for (;;) {
    if (auto frame = PODRT_TRY(next_frame())) return std::move(*frame);
    PODRT_TRY(wait_for(fd_.get(), POLLIN));
    if (!PODRT_TRY(read_some())) return Error::invalid("control channel: the host closed it");
  }
}

Result<UniqueFd> open_control_device(const ControlDevice& device, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    if (std::optional<std::string> port = find_named_port(device)) {
      int fd = ::open(port->c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (fd < 0) return Error::from_errno("open " + *port);
      return UniqueFd(fd);  // not a tty: nothing to put in raw mode
    }
    int fd = ::open(device.console.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
      UniqueFd console(fd);
      PODRT_TRY(make_raw(console.get()));
      return console;
    }
    // ENXIO: the node exists but the port is not ready yet.
    if ((errno != ENOENT && errno != ENXIO && errno != ENODEV) || now_ms() >= deadline)
      return Error::from_errno("open " + device.console);
    timespec pause{0, 1000000};  // 1 ms
    ::nanosleep(&pause, nullptr);
  }
}

}  // namespace podrt::guest_init
