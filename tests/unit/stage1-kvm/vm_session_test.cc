// VmSession against a scripted fake guest on socketpairs: the normal sequence, and a guest that
// breaks the protocol, lies about its apps or dies without a word.
#include "stage1-kvm/vm_session.h"

#include <signal.h>
#include <sys/socket.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/sys/file.h"

namespace podrt::stage1_kvm {
namespace {

using guest_protocol::encode_frame;
using guest_protocol::FrameType;

/// A VM that "exits" when the fake guest says so, and records kill().
class FakeVm final : public RunningVm {
 public:
  pid_t pid() const override { return 12345; }
  bool poll_exit(int& status) override {
    status = exit_status;
    return exited.load();
  }
  void kill() override {
    killed = true;
    exited = true;
    exit_status = SIGKILL;  // as waitpid reports a SIGKILLed process
  }
  std::atomic<bool> exited{false};
  std::atomic<bool> killed{false};
  int exit_status = 0;
};

class VmSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vm-session-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "status");
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGCHLD);
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Runs a session whose guest writes `script` on the control channel (then `console` on the
  /// serial console) and ends; returns the session's result and what the guest was sent.
  Result<int> run(const std::string& script, const std::string& console, std::string* sent = nullptr) {
    int control[2], serial[2], errors[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, control), 0);
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, serial), 0);
    EXPECT_EQ(::pipe(errors), 0);
    SessionOptions options;
    options.config_json = R"({"config":true})";
    options.app_names = {"web"};
    options.status_dir = (dir_ / "status").string();
    options.console_log = (dir_ / "console.log").string();
    options.boot_timeout_seconds = 5;
    VmSession session(std::move(options), UniqueFd(control[0]), UniqueFd(serial[0]), UniqueFd(errors[0]));
    FakeVm vm;
    std::string received;
    std::thread guest([&] {
      (void)!::write(serial[1], console.data(), console.size());
      (void)!::write(control[1], script.data(), script.size());
      ::shutdown(control[1], SHUT_WR);
      char buffer[4096];
      ssize_t n;
      while ((n = ::read(control[1], buffer, sizeof buffer)) > 0) received.append(buffer, static_cast<size_t>(n));
      vm.exited = true;
    });
    // The guest "ends" once the host stops talking; close the host-side peers when it has.
    std::thread closer([&] {
      while (!vm.exited) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ::close(control[1]);
      ::close(serial[1]);
      ::close(errors[1]);
    });
    Result<int> result = session.run(vm);
    vm.exited = true;
    guest.join();
    closer.join();
    if (sent) *sent = received;
    return result;
  }

  std::filesystem::path dir_;
};

TEST_F(VmSessionTest, HelloGetsTheConfigAndTheGuestsReportsBecomeStatusFiles) {
  std::string script = encode_frame(FrameType::kHello, 0, "6.1.0") +
                       encode_frame(FrameType::kAppExited, 0, R"({"app":"web","code":3,"oom":true})") +
                       encode_frame(FrameType::kPodExited, 0, "3");
  std::string sent;
  auto code = run(script, "", &sent);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(*sys::read_file((dir_ / "status/web").string()), "3");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "status/web.oom"));
  guest_protocol::FrameDecoder decoder;
  decoder.feed(sent.data(), sent.size());
  auto config = decoder.next();
  ASSERT_TRUE(config && *config);
  EXPECT_EQ((*config)->type, FrameType::kConfig);
  EXPECT_EQ((*config)->payload, R"({"config":true})");
}

TEST_F(VmSessionTest, ACorruptFrameEndsTheVmWithAnError) {
  auto code = run(encode_frame(FrameType::kHello, 0, "6.1.0") + "garbage!", "");
  ASSERT_FALSE(code);
  EXPECT_NE(code.error().message().find("control channel: bad frame magic"), std::string::npos)
      << code.error().message();
}

TEST_F(VmSessionTest, AGuestCannotWriteStatusForAnAppThePodDoesNotHave) {
  std::string script = encode_frame(FrameType::kHello, 0, "6.1.0") +
                       encode_frame(FrameType::kAppExited, 0, R"({"app":"../../etc/passwd","code":0})");
  auto code = run(script, "");
  ASSERT_FALSE(code);
  EXPECT_NE(code.error().message().find("does not have"), std::string::npos) << code.error().message();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "status"));
}

TEST_F(VmSessionTest, AGuestThatDiesEarlyIsReportedWithItsConsolesLastLine) {
  auto code = run(encode_frame(FrameType::kHello, 0, "6.1.0"),
                  "booting\nKernel panic - not syncing: Attempted to kill init!\n");
  ASSERT_FALSE(code);
  EXPECT_NE(code.error().message().find("Kernel panic - not syncing: Attempted to kill init!"),
            std::string::npos)
      << code.error().message();
  EXPECT_NE(sys::read_file((dir_ / "console.log").string())->find("booting"), std::string::npos);
}

TEST_F(VmSessionTest, AGuestInitThatGaveUpIsReportedWithItsLineNotTheReboot) {
  auto code = run("", "booting\nguest-init: no control device after 10000 ms\nreboot: Restarting system\n");
  ASSERT_FALSE(code);
  EXPECT_NE(code.error().message().find("guest-init: no control device after 10000 ms"), std::string::npos)
      << code.error().message();
  EXPECT_EQ(code.error().message().find("Restarting system"), std::string::npos) << code.error().message();
}

TEST_F(VmSessionTest, AGuestFloodingItsConsoleCostsAFixedAmount) {
  std::string flood;
  for (int i = 0; i < 20000; ++i) flood += "printk storm line " + std::to_string(i) + "\n";
  std::string script = encode_frame(FrameType::kHello, 0, "6.1.0") +
                       encode_frame(FrameType::kPodExited, 0, "0");
  auto code = run(script, flood);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  std::string saved = *sys::read_file((dir_ / "console.log").string());
  EXPECT_LE(saved.size(), 64u * 1024) << "only the console's tail is kept";
  EXPECT_NE(saved.find("printk storm line 19999"), std::string::npos) << "the tail is the newest part";
}

TEST_F(VmSessionTest, AFailureFromGuestInitIsTheError) {
  auto code = run(encode_frame(FrameType::kHello, 0, "6.1.0") +
                      encode_frame(FrameType::kFailure, 0, "guest-init: mount /dev/vda: No such device"),
                  "");
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().message(), "guest-init: mount /dev/vda: No such device");
}

}  // namespace
}  // namespace podrt::stage1_kvm
