// The host end of a running kvm pod: speaks the guest protocol (docs/guest-protocol.md) over
// the control socket, relays the apps' output, forwards stop signals, records each app's exit
// code in the pod directory, keeps the tail of the guest's console for error messages, and
// decides the pod's exit code once the VM has ended.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/guest_protocol/frame.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/enter_sessions.h"
#include "stage1-kvm/hypervisor.h"

namespace podrt::stage1_kvm {

/// The last bytes of a stream (a guest flooding its console costs a fixed amount of memory).
class StreamTail {
 public:
  explicit StreamTail(size_t capacity) : capacity_(capacity) {}
  void append(const char* data, size_t size);
  const std::string& text() const { return text_; }
  /// The last non-empty line, without its newline (for one-line errors).
  std::string last_line() const;
  /// The last line that contains `needle`, or empty.
  std::string last_line_with(std::string_view needle) const;

 private:
  size_t capacity_;
  std::string text_;
};

struct SessionOptions {
  std::string config_json;                ///< sent as the config frame after hello
  std::vector<std::string> app_names;     ///< the pod's apps, in plan order
  std::string status_dir;                 ///< the pod directory's status/
  std::string console_log;                ///< where the console's tail is saved at the end
  bool echo_console = false;              ///< --debug: the guest's console on stderr too
  bool interactive = false;               ///< relay stdin and the window size
  std::string enter_socket;               ///< where `podrt enter` connects; empty: nowhere
  int boot_timeout_seconds = 120;         ///< from start to hello (TCG on a busy host is slow)
  int shutdown_timeout_seconds = 10;      ///< from pod-exited to the VM's end
};

class VmSession {
 public:
  VmSession(SessionOptions options, UniqueFd control, UniqueFd console, UniqueFd hypervisor_stderr)
      : options_(std::move(options)), control_(std::move(control)), console_(std::move(console)),
        hypervisor_stderr_(std::move(hypervisor_stderr)) {}

  /// Runs until the VM has ended; returns the pod's exit code, or the reason there is none.
  /// Stop signals must be blocked by the caller: they are taken through a signalfd.
  Result<int> run(RunningVm& vm);

  /// Milliseconds from run() to the guest's hello (the boot marker), once it has come.
  std::optional<double> boot_milliseconds() const { return boot_ms_; }

 private:
  Result<void> handle_frame(const guest_protocol::Frame& frame, RunningVm& vm);
  Result<void> handle_app_exited(const std::string& payload);
  void send(guest_protocol::FrameType type, std::string_view payload);
  Result<void> flush_outgoing();
  void forward_signal(int signal, RunningVm& vm);
  void send_window_size();
  Error guest_ended_error(int status) const;

  SessionOptions options_;
  UniqueFd control_;
  UniqueFd console_;
  UniqueFd hypervisor_stderr_;
  guest_protocol::FrameDecoder decoder_;
  std::optional<EnterSessions> enter_;
  std::string outgoing_;
  StreamTail console_tail_{64 * 1024};
  StreamTail hypervisor_tail_{16 * 1024};
  bool hello_ = false;
  std::optional<int> pod_exit_;
  std::optional<std::string> failure_;
  std::optional<double> boot_ms_;
  bool signalled_ = false;
  std::optional<int> stop_signal_;  ///< a stop signal that came before the guest was up
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point shutdown_deadline_;
  std::chrono::steady_clock::time_point stop_deadline_;
};

}  // namespace podrt::stage1_kvm
