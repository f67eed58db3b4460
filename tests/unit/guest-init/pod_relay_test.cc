// PodRelay with a fake supervisor: a forked child that writes to the pipes (or the pty) the
// relay reads and exits with a code, while the test plays the host on a socketpair.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/scope_exit.h"
#include "guest-init/pod_relay.h"
#include "guest-init/pod_results.h"
#include "guest-init/supervisor_process.h"
#include "tests/unit/guest-init/host_end.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::Frame;
using guest_protocol::FrameType;
using testing::HostEnd;
using testing::stream_of;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  EXPECT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void write_text(int fd, const std::string& text) {
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) ::_exit(100);
    done += static_cast<size_t>(n);
  }
}

// The stop signals and SIGCHLD blocked for the test, as guest-init blocks them.
class GuestInitPodRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_BLOCK, &none, &saved_mask_);
    ASSERT_TRUE(block_pod_signals());
  }
  void TearDown() override {
    if (fake_ > 0) {
      ::kill(fake_, SIGKILL);
      ::waitpid(fake_, nullptr, 0);
    }
    // Whatever SIGCHLD is still pending must not outlive the test's mask.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
  }

  /// Forks the fake supervisor: `body` runs in the child with a clean signal mask.
  pid_t start_fake(const std::function<int()>& body) {
    fake_ = ::fork();
    if (fake_ == 0) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::_exit(body());
    }
    return fake_;
  }

  /// Runs the relay while a thread plays the host: it collects frames until pod-exited, which
  /// the test sends with report_pod_end once the relay returned.
  Result<int> relay(HostEnd& host, ControlChannel& channel, RelayOptions options,
                    std::vector<Frame>& frames,
                    const std::function<void(HostEnd&)>& host_does = {}) {
    options.supervisor = fake_;
    std::thread host_thread([&] {
      if (host_does) host_does(host);
      frames = host.read_until(FrameType::kPodExited);
    });
    PodRelay relay(channel, std::move(options));
    auto code = relay.run();
    if (code) {
      fake_ = -1;  // reaped by the relay
      EXPECT_TRUE(report_pod_end(channel, {}, *code));
    } else {
      host.close();
    }
    host_thread.join();
    return code;
  }

  pid_t fake_ = -1;
  sigset_t saved_mask_{};
};

TEST_F(GuestInitPodRelay, RelaysEachAppsOutputOnItsChannelAndReturnsTheCode) {
  auto [host, channel] = HostEnd::connect();
  Pipe out0 = make_pipe(), err0 = make_pipe(), out1 = make_pipe();
  start_fake([&] {
    write_text(out0.write.get(), "out\n");
    write_text(err0.write.get(), "err\n");
    write_text(out1.write.get(), "second app\n");
    return 7;
  });
  out0.write.reset();
  err0.write.reset();
  out1.write.reset();
  RelayOptions options;
  options.outputs.push_back({std::move(out0.read), FrameType::kStdout, 0});
  options.outputs.push_back({std::move(err0.read), FrameType::kStderr, 0});
  options.outputs.push_back({std::move(out1.read), FrameType::kStdout, 1});
  std::vector<Frame> frames;
  auto code = relay(host, channel, std::move(options), frames);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 7);
  EXPECT_EQ(stream_of(frames, FrameType::kStdout, 0), "out\n");
  EXPECT_EQ(stream_of(frames, FrameType::kStderr, 0), "err\n");
  EXPECT_EQ(stream_of(frames, FrameType::kStdout, 1), "second app\n");
  EXPECT_EQ(stream_of(frames, FrameType::kStderr, 1), "");
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().payload, "7");
}

TEST_F(GuestInitPodRelay, SendsLargeOutputInFramesOfAtMostAnOutputChunk) {
  auto [host, channel] = HostEnd::connect();
  Pipe out = make_pipe();
  std::string big;
  for (size_t i = 0; i < 300 * 1024; ++i) big.push_back(static_cast<char>(i % 253));
  start_fake([&] {
    write_text(out.write.get(), big);
    return 0;
  });
  out.write.reset();
  RelayOptions options;
  options.outputs.push_back({std::move(out.read), FrameType::kStdout, 0});
  std::vector<Frame> frames;
  auto code = relay(host, channel, std::move(options), frames);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  for (const Frame& frame : frames) EXPECT_LE(frame.payload.size(), kOutputChunk);
  EXPECT_EQ(stream_of(frames, FrameType::kStdout, 0), big);
}

TEST_F(GuestInitPodRelay, ASignalFrameGoesToTheSupervisor) {
  auto [host, channel] = HostEnd::connect();
  Pipe ready = make_pipe();
  start_fake([&] {
    write_text(ready.write.get(), "up\n");
    for (;;) ::pause();
    return 0;
  });
  ready.write.reset();
  RelayOptions options;
  options.outputs.push_back({std::move(ready.read), FrameType::kStdout, 0});
  std::vector<Frame> frames;
  auto code = relay(host, channel, std::move(options), frames, [](HostEnd& host_end) {
    // Once it runs (its first output), as `podrt stop` would.
    EXPECT_EQ(stream_of(host_end.read_until(FrameType::kStdout), FrameType::kStdout), "up\n");
    host_end.send(FrameType::kSignal, "not a number");
    host_end.send(FrameType::kSignal, "15");
  });
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 128 + SIGTERM);
}

TEST_F(GuestInitPodRelay, StdinAndResizeFramesReachTheAppsTerminal) {
  auto [host, channel] = HostEnd::connect();
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(master);
  ASSERT_EQ(::grantpt(master.get()), 0);
  ASSERT_EQ(::unlockpt(master.get()), 0);
  UniqueFd replica(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(replica);
  termios mode{};
  ASSERT_EQ(::tcgetattr(replica.get(), &mode), 0);
  mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);  // only the app's own answer comes back
  ASSERT_EQ(::tcsetattr(replica.get(), TCSANOW, &mode), 0);
  ASSERT_EQ(::fcntl(master.get(), F_SETFL, O_NONBLOCK), 0);
  UniqueFd output(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
  start_fake([&] {
    // A line, then everything up to end of input (^D), then the window size.
    std::string input;
    char buffer[256];
    ssize_t n;
    while ((n = ::read(replica.get(), buffer, sizeof buffer)) > 0) input.append(buffer, n);
    winsize size{};
    ::ioctl(replica.get(), TIOCGWINSZ, &size);
    write_text(replica.get(), "got [" + input + "] " + std::to_string(size.ws_row) + "x" +
                                  std::to_string(size.ws_col) + "\n");
    return 0;
  });
  replica.reset();
  RelayOptions options;
  options.outputs.push_back({std::move(output), FrameType::kStdout, 0});
  options.terminal = std::move(master);
  std::vector<Frame> frames;
  auto code = relay(host, channel, std::move(options), frames, [](HostEnd& host_end) {
    host_end.send(FrameType::kResize, "30 100");
    host_end.send(FrameType::kResize, "garbage");
    host_end.send(FrameType::kStdin, "hello\n");
    host_end.send(FrameType::kStdin, "");
  });
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  // The pty's output processing turns "\n" into "\r\n", as on any terminal.
  EXPECT_EQ(stream_of(frames, FrameType::kStdout), "got [hello\r\n] 30x100\r\n");
}

TEST_F(GuestInitPodRelay, EndsWithAnErrorWhenTheHostGoesAway) {
  auto [host, channel] = HostEnd::connect();
  host.close();  // before the fork: the fake supervisor would keep it open
  start_fake([] {
    for (;;) ::pause();
    return 0;
  });
  PodRelay relay(channel, RelayOptions{.supervisor = fake_});
  auto code = relay.run();
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().message(), "control channel: the host closed it");
}

TEST_F(GuestInitPodRelay, EndsWithAnErrorOnABadFrame) {
  auto [host, channel] = HostEnd::connect();
  start_fake([] {
    for (;;) ::pause();
    return 0;
  });
  host.send_raw(guest_protocol::encode_frame(FrameType::kSignal, 0, "15").replace(2, 1, "\x63"));
  PodRelay relay(channel, RelayOptions{.supervisor = fake_});
  auto code = relay.run();
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().message(), "control channel: unknown frame type 99");
}

TEST_F(GuestInitPodRelay, StopsWaitingForOutputHeldOpenPastTheSupervisor) {
  auto [host, channel] = HostEnd::connect();
  Pipe out = make_pipe();
  Pipe grandchild_pid = make_pipe();
  start_fake([&] {
    pid_t held = ::fork();
    if (held == 0) {
      for (;;) ::pause();  // keeps out.write open
    }
    write_text(grandchild_pid.write.get(), std::to_string(held));
    write_text(out.write.get(), "bye\n");
    return 3;
  });
  out.write.reset();
  grandchild_pid.write.reset();
  RelayOptions options;
  options.outputs.push_back({std::move(out.read), FrameType::kStdout, 0});
  options.drain_timeout = std::chrono::milliseconds(100);
  std::vector<Frame> frames;
  auto started = std::chrono::steady_clock::now();
  auto code = relay(host, channel, std::move(options), frames);
  auto took = std::chrono::steady_clock::now() - started;
  char pid_text[32] = {};
  ::fcntl(grandchild_pid.read.get(), F_SETFL, 0);
  ASSERT_GT(::read(grandchild_pid.read.get(), pid_text, sizeof pid_text - 1), 0);
  ::kill(std::atoi(pid_text), SIGKILL);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(stream_of(frames, FrameType::kStdout), "bye\n");
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace podrt::guest_init
