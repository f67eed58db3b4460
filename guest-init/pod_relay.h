// PID 1's event loop while the pod runs: frames from the host (signal, stdin, resize) to the
// supervisor and the app's terminal, the apps' output to the host as stdout/stderr frames, and
// SIGCHLD (PID 1 reaps every orphan of the guest). It ends once the supervisor has exited and
// its apps' output is drained.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/guest_protocol/frame.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "guest-init/control_channel.h"
#include "guest-init/event_loop.h"
#include "common/supervisor/pod_plan.h"
#include "guest-init/pod_stdio.h"

namespace podrt::guest_init {

/// The most output read from an app at once, so one frame: small enough that the apps' frames
/// interleave finely and a slow host holds little (kMaxPayload, the protocol's limit, is 1 MiB).
inline constexpr size_t kOutputChunk = 64 * 1024;

struct RelayOptions {
  pid_t supervisor = -1;
  /// The plan the supervisor runs (roots, cgroups filled in): `podrt enter` sessions start
  /// their commands from it. Null: exec frames are refused.
  const supervisor::PodPlan* plan = nullptr;
  std::vector<OutputSource> outputs;
  UniqueFd terminal;  ///< the app's pty master (interactive), or none
  /// PID 1 only: once the supervisor exited, SIGKILL every process left (kill(-1)), so that
  /// nothing holds an output pipe open. Never in tests: it would kill the test's world.
  bool kill_leftovers = false;
  /// How long output may still come once the supervisor exited.
  std::chrono::milliseconds drain_timeout{2000};
};

class PodRelay {
 public:
  /// `channel` must outlive the relay.
  PodRelay(ControlChannel& channel, RelayOptions options)
      : channel_(&channel), options_(std::move(options)) {}
  // The loop's handlers point at this object.
  PodRelay(const PodRelay&) = delete;
  PodRelay& operator=(const PodRelay&) = delete;

  /// Relays until the pod is over and returns the supervisor's exit code (128+N when signal N
  /// killed it); what is still queued for the host is left to the caller to flush. SIGCHLD must
  /// be blocked (block_pod_signals) since before the supervisor was forked. An error means the
  /// control channel failed; the supervisor may still run.
  Result<int> run();

 private:
  using Clock = std::chrono::steady_clock;

  void refresh_watches();
  void on_channel(short revents);
  void on_output(size_t index, short revents);
  void on_child_signal();
  void dispatch_buffered();
  void dispatch(const guest_protocol::Frame& frame);
  void forward_signal(const std::string& payload);
  void write_terminal(const std::string& payload);
  void resize_terminal(const std::string& payload);
  void flush_terminal();
  void close_output(size_t index);
  void supervisor_exited(int status);
  bool pod_over() const;
  // podrt enter sessions (exec frames), each on its own channel.
  struct ExecSession {
    uint8_t channel = 0;
    pid_t pid = -1;
    UniqueFd stdin_fd;
    int open_outputs = 2;
    std::optional<int> code;
  };
  void start_session(const guest_protocol::Frame& frame);
  ExecSession* session(uint8_t channel);
  void session_input(ExecSession& session, const std::string& payload);
  void finish_session_if_done(uint8_t channel);

  ControlChannel* channel_;
  RelayOptions options_;
  UniqueFd signal_fd_;
  EventLoop loop_;
  std::optional<int> supervisor_code_;
  std::optional<Clock::time_point> drain_deadline_;
  std::string terminal_input_;  ///< stdin bytes the pty did not take yet
  std::optional<Error> error_;  ///< the channel's, ends the loop
  std::vector<ExecSession> sessions_;
};

}  // namespace podrt::guest_init
