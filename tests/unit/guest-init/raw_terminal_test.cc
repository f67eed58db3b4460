// The control channel's tty setup, checked on a pty (hvc0 is a tty like any other).
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "common/sys/file.h"
#include "common/unique_fd.h"
#include "guest-init/control_channel.h"
#include "guest-init/raw_terminal.h"
#include "tests/support/command_runner.h"

namespace podrt::guest_init {
namespace {

struct Pty {
  UniqueFd master;
  UniqueFd replica;
  std::string path;
};

Pty open_pty() {
  Pty pty;
  pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  EXPECT_TRUE(pty.master);
  EXPECT_EQ(::grantpt(pty.master.get()), 0);
  EXPECT_EQ(::unlockpt(pty.master.get()), 0);
  char name[128];
  EXPECT_EQ(::ptsname_r(pty.master.get(), name, sizeof name), 0);
  pty.path = name;
  pty.replica.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  EXPECT_TRUE(pty.replica);
  return pty;
}

// Reads exactly `size` bytes, or what came within `timeout_ms`.
std::string read_bytes(int fd, size_t size, int timeout_ms = 1000) {
  std::string out;
  while (out.size() < size) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, timeout_ms) <= 0) break;
    char buffer[512];
    ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, size - out.size()));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

TEST(GuestInitRawTerminal, TurnsOffEchoLineEditingSignalsAndTranslation) {
  Pty pty = open_pty();
  ASSERT_TRUE(make_raw(pty.replica.get()));
  termios mode{};
  ASSERT_EQ(::tcgetattr(pty.replica.get(), &mode), 0);
  EXPECT_EQ(mode.c_lflag & (ECHO | ECHONL | ICANON | ISIG | IEXTEN), 0u);
  EXPECT_EQ(mode.c_oflag & OPOST, 0u);
  EXPECT_EQ(mode.c_iflag & (ICRNL | INLCR | IGNCR | IXON | ISTRIP | BRKINT | PARMRK), 0u);
  EXPECT_EQ(mode.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(mode.c_cflag & PARENB, 0u);
  EXPECT_EQ(mode.c_cc[VMIN], 1);
  EXPECT_EQ(mode.c_cc[VTIME], 0);
}

TEST(GuestInitRawTerminal, IsEightBitCleanBothWays) {
  Pty pty = open_pty();
  ASSERT_TRUE(make_raw(pty.replica.get()));
  const std::string bytes = all_bytes();
  // Host to guest: ^C, ^D, ^S, CR, DEL and 0x80-0xff arrive as sent, with nothing echoed.
  ASSERT_EQ(::write(pty.master.get(), bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  EXPECT_EQ(read_bytes(pty.replica.get(), bytes.size()), bytes);
  EXPECT_EQ(read_bytes(pty.master.get(), 1, 50), "");  // no echo
  // Guest to host: "\n" stays "\n".
  ASSERT_EQ(::write(pty.replica.get(), bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  EXPECT_EQ(read_bytes(pty.master.get(), bytes.size()), bytes);
}

TEST(GuestInitRawTerminal, OpenControlDeviceOpensInRawMode) {
  Pty pty = open_pty();
  ControlDevice where;
  where.console = pty.path;
  where.ports_dir = "/nonexistent";
  auto device = open_control_device(where, 1000);
  ASSERT_TRUE(device) << device.error().message();
  termios mode{};
  ASSERT_EQ(::tcgetattr(device->get(), &mode), 0);
  EXPECT_EQ(mode.c_lflag & (ECHO | ICANON | ISIG), 0u);
  EXPECT_EQ(mode.c_oflag & OPOST, 0u);
  EXPECT_NE(::fcntl(device->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(GuestInitRawTerminal, OpenControlDeviceGivesUpAfterTheTimeout) {
  ControlDevice where;
  where.console = "/dev/podrt-no-such-hvc";
  auto device = open_control_device(where, 20);
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().message(), "open /dev/podrt-no-such-hvc: No such file or directory");
}

TEST(GuestInitRawTerminal, OpenControlDeviceRefusesWhatIsNotATerminal) {
  ControlDevice where;
  where.console = "/dev/null";
  where.ports_dir = "/nonexistent";
  auto device = open_control_device(where, 20);
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().message(),
            "read the control channel's tty mode: Inappropriate ioctl for device");
}

TEST(GuestInitRawTerminal, OpenControlDevicePrefersTheNamedPortAndLeavesItsMode) {
  // A fake /sys/class/virtio-ports and /dev: the named port is a pty here, so that its mode
  // can be seen untouched (a real port is no tty at all).
  Pty pty = open_pty();
  podrt::testing::TempDir dir;
  for (const char* port : {"vport0p1", "vport0p2"})
    ASSERT_TRUE(sys::make_directories(dir.path() + "/ports/" + port));
  ASSERT_TRUE(sys::write_file_atomic(dir.path() + "/ports/vport0p1/name", "other\n"));
  ASSERT_TRUE(sys::write_file_atomic(dir.path() + "/ports/vport0p2/name", "podrt.control\n"));
  ASSERT_TRUE(sys::make_directories(dir.path() + "/dev"));
  ASSERT_EQ(::symlink(pty.path.c_str(), (dir.path() + "/dev/vport0p2").c_str()), 0);
  ControlDevice where;
  where.console = "/dev/podrt-no-such-hvc";
  where.ports_dir = dir.path() + "/ports";
  where.dev_dir = dir.path() + "/dev";
  auto device = open_control_device(where, 1000);
  ASSERT_TRUE(device) << device.error().message();
  termios mode{};
  ASSERT_EQ(::tcgetattr(device->get(), &mode), 0);
  EXPECT_NE(mode.c_lflag & ICANON, 0u);
}

}  // namespace
}  // namespace podrt::guest_init
