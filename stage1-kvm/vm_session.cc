#include "stage1-kvm/vm_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "common/appc/json_fields.h"
#include "common/log.h"
#include "common/sys/file.h"

namespace podrt::stage1_kvm {
namespace {

using guest_protocol::Frame;
using guest_protocol::FrameType;
using Clock = std::chrono::steady_clock;

/// After a forwarded stop signal the guest's supervisor escalates to SIGKILL after 10 s; past
/// this the guest itself is stuck and the VM is ended from outside.
constexpr auto kStopGrace = std::chrono::seconds(30);

int milliseconds_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

Result<int> parse_code(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos)
    return Error::invalid("control channel: " + what + " \"" + text.substr(0, 16) + "\" is not an exit code");
  int code = std::stoi(text);
  if (code > 255) return Error::invalid("control channel: " + what + " " + text + " is not an exit code");
  return code;
}

}  // namespace

void StreamTail::append(const char* data, size_t size) {
  text_.append(data, size);
  if (text_.size() > capacity_) text_.erase(0, text_.size() - capacity_);
}

std::string StreamTail::last_line() const {
  size_t end = text_.find_last_not_of("\r\n ");
  if (end == std::string::npos) return "";
  size_t start = text_.find_last_of("\r\n", end);
  size_t first = start == std::string::npos ? 0 : start + 1;
  return text_.substr(first, end + 1 - first);
}

std::string StreamTail::last_line_with(std::string_view needle) const {
  size_t at = text_.rfind(needle);
  if (at == std::string::npos) return "";
  size_t start = text_.find_last_of("\r\n", at);
  size_t first = start == std::string::npos ? 0 : start + 1;
  size_t end = text_.find_first_of("\r\n", at);
  return text_.substr(first, (end == std::string::npos ? text_.size() : end) - first);
}

void VmSession::send(FrameType type, std::string_view payload) {
  outgoing_ += guest_protocol::encode_frame(type, 0, payload);
}

Result<void> VmSession::flush_outgoing() {
  while (!outgoing_.empty()) {
    ssize_t n = ::write(control_.get(), outgoing_.data(), outgoing_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return ok();
    if (n < 0) return Error::from_errno("write to the control channel");
    outgoing_.erase(0, static_cast<size_t>(n));
  }
  return ok();
}

void VmSession::forward_signal(int signal, RunningVm& vm) {
  if (!hello_ || pod_exit_) {
    // Nothing to forward to yet (or any more): the pod ends now.
    log::debug("signal " + std::to_string(signal) + " before the guest is up: ending the VM");
    if (!signalled_) stop_signal_ = signal;
    vm.kill();
  } else {
    send(FrameType::kSignal, std::to_string(signal));
  }
  signalled_ = true;
  stop_deadline_ = Clock::now() + kStopGrace;
}

Result<void> VmSession::handle_app_exited(const std::string& payload) {
  nlohmann::json report = PODRT_TRY_CONTEXT(appc::parse_json_document(payload), "control channel: app-exited");
  PODRT_TRY_CONTEXT(appc::expect_object(report, "app-exited"), "control channel");
  std::string app = PODRT_TRY_CONTEXT(appc::required_string(report, "app", "app-exited"), "control channel");
  if (std::find(options_.app_names.begin(), options_.app_names.end(), app) == options_.app_names.end())
    return Error::invalid("control channel: app-exited for an app the pod does not have");
  const nlohmann::json* code = appc::find_member(report, "code");
  if (code == nullptr) return Error::invalid("control channel: app-exited without a code");
  uint64_t value = PODRT_TRY_CONTEXT(appc::read_uint(*code, "app-exited.code", 0, 255), "control channel");
  bool oom = PODRT_TRY_CONTEXT(appc::optional_bool(report, "oom", "app-exited"), "control channel").value_or(false);
  std::string status = options_.status_dir + "/" + app;
  PODRT_TRY(sys::write_file_atomic(status, std::to_string(value), 0644, sys::Sync::No));
  if (oom) {
    log::error("app " + app + " was killed: out of memory (its memory limit was reached)");
    PODRT_TRY(sys::write_file_atomic(status + ".oom", "true\n", 0644, sys::Sync::No));
  }
  return ok();
}

Result<void> VmSession::handle_frame(const Frame& frame, RunningVm& vm) {
  if (frame.channel >= guest_protocol::kFirstExecChannel &&
      (frame.type == FrameType::kStdout || frame.type == FrameType::kStderr ||
       frame.type == FrameType::kExecExited || frame.type == FrameType::kFailure)) {
    if (enter_) enter_->deliver(frame);  // a `podrt enter` session's
    return ok();
  }
  switch (frame.type) {
    case FrameType::kHello:
      if (hello_) return Error::invalid("control channel: a second hello");
      hello_ = true;
      boot_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
      log::debug("guest " + frame.payload.substr(0, 64) + " up after " +
                 std::to_string(static_cast<int>(*boot_ms_)) + " ms");
      send(FrameType::kConfig, options_.config_json);
      if (signalled_) send(FrameType::kSignal, std::to_string(SIGTERM));
      if (options_.interactive) send_window_size();
      return ok();
    case FrameType::kStdout:
      // A reader that went away loses the output; the pod runs on.
      (void)sys::write_all(STDOUT_FILENO, frame.payload, "stdout");
      return ok();
    case FrameType::kStderr:
      (void)sys::write_all(STDERR_FILENO, frame.payload, "stderr");
      return ok();
    case FrameType::kAppExited:
      return handle_app_exited(frame.payload);
    case FrameType::kPodExited:
      pod_exit_ = PODRT_TRY(parse_code(frame.payload, "pod-exited"));
      shutdown_deadline_ = Clock::now() + std::chrono::seconds(options_.shutdown_timeout_seconds);
      return ok();
    case FrameType::kFailure: {
      std::string message = frame.payload.substr(0, 512);
      std::replace(message.begin(), message.end(), '\n', ' ');
      failure_ = message;
      (void)vm;
      return ok();
    }
    default:
      return Error::invalid("control channel: the guest sent a host-to-guest frame (type " +
                            std::to_string(static_cast<int>(frame.type)) + ")");
  }
}

void VmSession::send_window_size() {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0)
    send(FrameType::kResize, std::to_string(size.ws_row) + " " + std::to_string(size.ws_col));
}

Error VmSession::guest_ended_error(int status) const {
  std::string hypervisor = hypervisor_tail_.last_line();
  bool hypervisor_failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (hypervisor_failed && !hypervisor.empty())
    return Error::invalid("the hypervisor failed: " + hypervisor);
  // A panic prints more lines after its own ("Kernel Offset: ..."), and guest-init says why it
  // gave up just before the kernel's "reboot: Restarting system": those lines are the news.
  std::string console = console_tail_.last_line_with("Kernel panic");
  if (console.empty()) console = console_tail_.last_line_with("guest-init: ");
  if (console.empty()) console = console_tail_.last_line();
  return Error::invalid("the guest stopped before the pod ended" +
                        (console.empty() ? std::string() : " (its console's last line: " + console + ")") +
                        "; see " + options_.console_log);
}

Result<int> VmSession::run(RunningVm& vm) {
  started_ = Clock::now();
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGWINCH}) sigaddset(&signals, sig);
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) return Error::from_errno("signalfd");
  for (int fd : {control_.get(), console_.get(), hypervisor_stderr_.get()})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  if (!options_.enter_socket.empty())
    enter_.emplace(PODRT_TRY(EnterSessions::listen(options_.enter_socket, options_.app_names)));
  auto boot_deadline = started_ + std::chrono::seconds(options_.boot_timeout_seconds);
  std::optional<Error> error;
  bool vm_ended = false;
  int vm_status = 0;
  bool stdin_open = options_.interactive;
  char buffer[64 * 1024];

  while (true) {
    if (!vm_ended && vm.poll_exit(vm_status)) vm_ended = true;
    // Once the VM is gone its ends of the sockets are closed: read to EOF, then stop.
    if (vm_ended && !control_ && !console_ && !hypervisor_stderr_) break;

    int timeout = -1;
    if (vm_ended) timeout = 1000;
    else if (!hello_) timeout = milliseconds_until(boot_deadline);
    if (pod_exit_ && !vm_ended) timeout = milliseconds_until(shutdown_deadline_);
    if (signalled_ && !vm_ended) timeout = std::min(timeout < 0 ? 60'000 : timeout, milliseconds_until(stop_deadline_));

    std::vector<pollfd> fds = {
        {signal_fd.get(), POLLIN, 0},
        {control_.get(), static_cast<short>(POLLIN | (outgoing_.empty() ? 0 : POLLOUT)), 0},
        {console_.get(), POLLIN, 0},
        {hypervisor_stderr_.get(), POLLIN, 0},
        {stdin_open && hello_ ? STDIN_FILENO : -1, POLLIN, 0}};
    constexpr size_t kEnterFds = 5;
    if (enter_) enter_->add_poll_fds(fds);
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) return Error::from_errno("poll");
    if (ready == 0 && !vm_ended) {
      auto now = Clock::now();
      if (!hello_ && now >= boot_deadline && !error) {
        error = Error::invalid("the guest did not start within " +
                               std::to_string(options_.boot_timeout_seconds) + " s; see " +
                               options_.console_log);
        vm.kill();
      }
      if ((pod_exit_ && now >= shutdown_deadline_) || (signalled_ && now >= stop_deadline_)) vm.kill();
      continue;
    }
    if (ready == 0 && vm_ended) break;  // nothing more arrives from a VM that is gone

    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGWINCH && options_.interactive && hello_) send_window_size();
        else if (sig != SIGCHLD && sig != SIGWINCH && !vm_ended) forward_signal(sig, vm);
      }
    }
    if (control_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(control_.get(), buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        control_.reset();
      } else if (n > 0) {
        decoder_.feed(buffer, static_cast<size_t>(n));
        while (control_) {
          auto frame = decoder_.next();
          Result<void> handled = frame ? (*frame ? handle_frame(**frame, vm) : Result<void>())
                                       : Result<void>(std::move(frame).error());
          if (!handled) {
            // A guest that breaks the protocol is not trusted with anything more.
            if (!error) error = std::move(handled).error();
            vm.kill();
            control_.reset();
            break;
          }
          if (!frame || !*frame) break;
        }
      }
    }
    if (control_ && (fds[1].revents & POLLOUT)) {
      if (auto flushed = flush_outgoing(); !flushed) control_.reset();
    }
    if (control_ && !outgoing_.empty()) (void)flush_outgoing();
    for (int index : {2, 3}) {
      UniqueFd& fd = index == 2 ? console_ : hypervisor_stderr_;
      StreamTail& tail = index == 2 ? console_tail_ : hypervisor_tail_;
      if (!fd || !(fds[index].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        fd.reset();
      } else if (n > 0) {
        tail.append(buffer, static_cast<size_t>(n));
        if (options_.echo_console || index == 3)
          (void)sys::write_all(STDERR_FILENO, std::string_view(buffer, static_cast<size_t>(n)), "stderr");
      }
    }
    if (stdin_open && (fds[4].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        send(FrameType::kStdin, std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        send(FrameType::kStdin, "");
        stdin_open = false;
      }
    }
    if (enter_ && ready > 0) enter_->handle(fds, kEnterFds, hello_ && control_ && !pod_exit_, outgoing_);
  }
  if (enter_) enter_->close_all("the pod has ended");

  (void)sys::write_file_atomic(options_.console_log, console_tail_.text(), 0644, sys::Sync::No);
  if (error) return std::move(*error);
  if (failure_) return Error::invalid(*failure_);
  if (pod_exit_) return *pod_exit_;
  if (stop_signal_) return 128 + *stop_signal_;
  if (WIFSIGNALED(vm_status) && WTERMSIG(vm_status) == SIGKILL) {
    log::warning("the VM was killed before the pod ended");
    return 128 + SIGKILL;
  }
  return guest_ended_error(vm_status);
}

}  // namespace podrt::stage1_kvm
