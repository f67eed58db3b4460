#include "guest-init/pod_relay.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/log.h"
#include "guest-init/exec_session.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::Frame;
using guest_protocol::FrameType;

// Above this much output waiting for the host, the apps' pipes are left unread: the apps then
// block on a full pipe, which is the backpressure a slow host should give them.
constexpr size_t kChannelHighWater = 1 << 20;
// Above this much stdin waiting for the app, frames from the host wait in the channel.
constexpr size_t kTerminalInputMax = 256 * 1024;

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 254;
}

Result<UniqueFd> child_signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error::from_errno("create a signalfd for SIGCHLD");
  return fd;
}

// A decimal number in [min, max] that is the whole of `text`.
std::optional<long> parse_number(std::string_view text, long min, long max) {
  long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

}  // namespace

Result<int> PodRelay::run() {
  signal_fd_ = PODRT_TRY(child_signal_fd());
  loop_.watch(signal_fd_.get(), POLLIN, [this](short) { on_child_signal(); });
  on_child_signal();  // harmless if nothing exited yet; covers a caller that blocked late
  dispatch_buffered();  // frames that came with the config (a stop during setup, say)
  while (!error_ && !pod_over()) {
    refresh_watches();
    int timeout_ms = -1;
    if (drain_deadline_) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*drain_deadline_ - Clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    PODRT_TRY(loop_.run_once(timeout_ms));
    if (drain_deadline_ && Clock::now() >= *drain_deadline_ && !pod_over()) {
      log::warning("the pod's output did not end with the pod; dropping the rest");
      break;
    }
  }
  if (error_) return std::move(*error_);
  return *supervisor_code_;
}

bool PodRelay::pod_over() const {
  if (!supervisor_code_) return false;
  return std::none_of(options_.outputs.begin(), options_.outputs.end(),
                      [](const OutputSource& source) { return source.fd.valid(); });
}

// What each fd waits for depends on the queues: recomputed before every poll.
void PodRelay::refresh_watches() {
  short channel_events = 0;
  if (terminal_input_.size() < kTerminalInputMax) channel_events |= POLLIN;
  if (channel_->pending() > 0) channel_events |= POLLOUT;
  if (channel_events == 0) {
    loop_.unwatch(channel_->fd());
  } else if (loop_.watching(channel_->fd())) {
    loop_.set_events(channel_->fd(), channel_events);
  } else {
    loop_.watch(channel_->fd(), channel_events, [this](short revents) { on_channel(revents); });
  }

  bool read_output = channel_->pending() < kChannelHighWater;
  for (size_t i = 0; i < options_.outputs.size(); ++i) {
    int fd = options_.outputs[i].fd.get();
    if (fd < 0) continue;
    if (read_output && !loop_.watching(fd))
      loop_.watch(fd, POLLIN, [this, i](short revents) { on_output(i, revents); });
    else if (!read_output)
      loop_.unwatch(fd);
  }

  if (options_.terminal) {
    int fd = options_.terminal.get();
    if (!terminal_input_.empty() && !loop_.watching(fd))
      loop_.watch(fd, POLLOUT, [this](short) { flush_terminal(); });
    else if (terminal_input_.empty())
      loop_.unwatch(fd);
  }
}

void PodRelay::on_channel(short revents) {
  if (revents & POLLOUT) {
    if (auto flushed = channel_->flush_some(); !flushed) error_ = std::move(flushed).error();
  }
  if (error_ || !(revents & (POLLIN | POLLHUP | POLLERR))) return;
  auto open = channel_->read_some();
  if (!open) {
    error_ = std::move(open).error();
    return;
  }
  dispatch_buffered();
  if (!error_ && !*open) error_ = Error::invalid("control channel: the host closed it");
}

void PodRelay::dispatch_buffered() {
  for (;;) {
    auto frame = channel_->next_frame();
    if (!frame) {
      error_ = std::move(frame).error();
      return;
    }
    if (!*frame) return;
    dispatch(**frame);
  }
}

void PodRelay::dispatch(const Frame& frame) {
  if (frame.type == FrameType::kExec) {
    start_session(frame);
    return;
  }
  if (frame.channel >= guest_protocol::kFirstExecChannel) {
    ExecSession* target = session(frame.channel);
    if (target == nullptr) return;  // it has ended already
    if (frame.type == FrameType::kStdin) {
      session_input(*target, frame.payload);
    } else if (frame.type == FrameType::kSignal) {
      if (auto signal = parse_number(frame.payload, 1, SIGRTMAX); signal && !target->code)
        ::kill(target->pid, static_cast<int>(*signal));
    }
    return;
  }
  switch (frame.type) {
    case FrameType::kSignal:
      forward_signal(frame.payload);
      return;
    case FrameType::kStdin:
      write_terminal(frame.payload);
      return;
    case FrameType::kResize:
      resize_terminal(frame.payload);
      return;
    default:
      log::warning("control channel: a frame of type " +
                   std::to_string(static_cast<int>(frame.type)) +
                   " from the host while the pod runs; ignored");
  }
}

void PodRelay::start_session(const Frame& frame) {
  auto fail = [&](const std::string& message) {
    channel_->queue(FrameType::kFailure, frame.channel, "guest-init: " + message);
  };
  if (frame.channel < guest_protocol::kFirstExecChannel || session(frame.channel) != nullptr)
    return fail("exec on channel " + std::to_string(frame.channel) + ", which is not free");
  if (options_.plan == nullptr || supervisor_code_) return fail("the pod is not running");
  auto started = start_exec(*options_.plan, frame.payload);
  if (!started) return fail(started.error().message());
  ExecSession added;
  added.channel = frame.channel;
  added.pid = started->pid;
  added.stdin_fd = std::move(started->stdin_fd);
  sessions_.push_back(std::move(added));
  options_.outputs.push_back({std::move(started->stdout_fd), FrameType::kStdout, frame.channel});
  options_.outputs.push_back({std::move(started->stderr_fd), FrameType::kStderr, frame.channel});
}

PodRelay::ExecSession* PodRelay::session(uint8_t channel) {
  for (ExecSession& candidate : sessions_)
    if (candidate.channel == channel) return &candidate;
  return nullptr;
}

void PodRelay::session_input(ExecSession& target, const std::string& payload) {
  if (payload.empty()) {  // end of input
    target.stdin_fd.reset();
    return;
  }
  size_t done = 0;
  while (target.stdin_fd && done < payload.size()) {
    ssize_t n = ::write(target.stdin_fd.get(), payload.data() + done, payload.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // the command stopped reading: drop its input
      target.stdin_fd.reset();
      return;
    }
    done += static_cast<size_t>(n);
  }
}

// The exit frame goes once the command has exited and its output has all been sent.
void PodRelay::finish_session_if_done(uint8_t channel) {
  ExecSession* target = session(channel);
  if (target == nullptr || !target->code || target->open_outputs > 0) return;
  channel_->queue(FrameType::kExecExited, channel, std::to_string(*target->code));
  sessions_.erase(sessions_.begin() + (target - sessions_.data()));
}

void PodRelay::forward_signal(const std::string& payload) {
  std::optional<long> signal = parse_number(payload, 1, SIGRTMAX);
  if (!signal) {
    log::warning("control channel: \"" + payload.substr(0, 16) + "\" is not a signal number");
    return;
  }
  // The supervisor forwards stop signals to the apps; once it is gone there is no one to stop.
  if (!supervisor_code_) ::kill(options_.supervisor, static_cast<int>(*signal));
}

void PodRelay::write_terminal(const std::string& payload) {
  if (!options_.terminal) return;  // the apps' stdin is /dev/null
  if (payload.empty()) {
    // End of input: the line discipline's EOF character, so a shell reading a line sees it
    // as ^D would be; closing the master would hang the app up instead.
    termios mode{};
    if (::tcgetattr(options_.terminal.get(), &mode) == 0 && mode.c_cc[VEOF] != _POSIX_VDISABLE)
      terminal_input_.push_back(static_cast<char>(mode.c_cc[VEOF]));
  } else {
    terminal_input_ += payload;
  }
  flush_terminal();
}

void PodRelay::flush_terminal() {
  while (!terminal_input_.empty()) {
    ssize_t n = ::write(options_.terminal.get(), terminal_input_.data(), terminal_input_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {  // EIO: the app closed its terminal; nobody will read this
      terminal_input_.clear();
      return;
    }
    terminal_input_.erase(0, static_cast<size_t>(n));
  }
}

void PodRelay::resize_terminal(const std::string& payload) {
  if (!options_.terminal) return;
  size_t space = payload.find(' ');
  std::optional<long> rows, cols;
  if (space != std::string::npos) {
    rows = parse_number(std::string_view(payload).substr(0, space), 0, 65535);
    cols = parse_number(std::string_view(payload).substr(space + 1), 0, 65535);
  }
  if (!rows || !cols) {
    log::warning("control channel: \"" + payload.substr(0, 32) + "\" is not \"ROWS COLS\"");
    return;
  }
  winsize size{};
  size.ws_row = static_cast<unsigned short>(*rows);
  size.ws_col = static_cast<unsigned short>(*cols);
  // The kernel sends SIGWINCH to the terminal's foreground process group.
  ::ioctl(options_.terminal.get(), TIOCSWINSZ, &size);
}

void PodRelay::on_output(size_t index, short revents) {
  (void)revents;
  OutputSource& source = options_.outputs[index];
  // One read per wake-up, so one chatty app cannot starve the others.
  char buffer[kOutputChunk];
  ssize_t n;
  do {
    n = ::read(source.fd.get(), buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    channel_->queue(source.type, source.channel, std::string_view(buffer, static_cast<size_t>(n)));
    if (auto flushed = channel_->flush_some(); !flushed) error_ = std::move(flushed).error();
    return;
  }
  if (n < 0 && errno == EAGAIN) return;
  // 0: every writer is gone; EIO: a pty whose replicas are all closed.
  if (n < 0 && errno != EIO) log::warning(std::string("read app output: ") + std::strerror(errno));
  close_output(index);
}

void PodRelay::close_output(size_t index) {
  OutputSource& source = options_.outputs[index];
  loop_.unwatch(source.fd.get());
  source.fd.reset();
  if (source.channel >= guest_protocol::kFirstExecChannel) {
    if (ExecSession* owner = session(source.channel)) {
      --owner->open_outputs;
      finish_session_if_done(source.channel);
    }
  }
}

void PodRelay::on_child_signal() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
  }
  // SIGCHLDs coalesce: reap everything that has exited, orphans of the guest included.
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == options_.supervisor && !supervisor_code_) supervisor_exited(status);
    for (ExecSession& candidate : sessions_)
      if (candidate.pid == pid && !candidate.code) {
        candidate.code = exit_code_of(status);
        finish_session_if_done(candidate.channel);
        break;
      }
  }
}

void PodRelay::supervisor_exited(int status) {
  supervisor_code_ = exit_code_of(status);
  // The supervisor kills what the apps left behind before it exits; this catches a
  // supervisor that was itself killed.
  if (options_.kill_leftovers) ::kill(-1, SIGKILL);
  drain_deadline_ = Clock::now() + options_.drain_timeout;
}

}  // namespace podrt::guest_init
