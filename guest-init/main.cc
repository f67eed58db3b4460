// podrt-guest-init: PID 1 of a stage1-kvm VM, /init of the initramfs the host builds. It mounts
// the API filesystems, says hello on the control channel (/dev/hvc0), takes the pod's config,
// sets the pod up (hostname, network, each app's rootfs, cgroups), runs the shared supervisor
// in a child and relays the pod's stdio, signals and exit codes until it ends, then ends the VM
// (docs/guest-protocol.md). It never exits: every path ends in end_vm().
#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "common/cgroups/cgroup.h"
#include "common/guest_protocol/guest_config.h"
#include "common/log.h"
#include "common/sys/file.h"
#include "guest-init/boot_trace.h"
#include "guest-init/control_channel.h"
#include "guest-init/early_mounts.h"
#include "guest-init/guest_paths.h"
#include "guest-init/network_setup.h"
#include "guest-init/pod_cgroups.h"
#include "guest-init/pod_mounts.h"
#include "guest-init/pod_relay.h"
#include "guest-init/pod_results.h"
#include "guest-init/pod_stdio.h"
#include "guest-init/supervisor_process.h"
#include "guest-init/vm_end.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::FrameType;
using guest_protocol::GuestConfig;

// virtio-console adds its ports from a work queue, after a round of control messages with the
// host (PORT_ADD, PORT_READY, PORT_OPEN); they are normally there before PID 1 runs. Nested
// under TCG on a loaded host that round can take seconds, so wait nearly as long as stage1's
// boot timeout (120 s from its start to the hello), which bounds the whole wait anyway: a
// shorter limit only turned a slow boot into a failed pod.
constexpr int kControlDeviceTimeoutMs = 100000;

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return "guest-init: " + text;
}

// Before the control channel exists, the console (ttyS0, kept by stage1-kvm) is the only
// place to say why the VM ends.
[[noreturn]] void die_on_console(const Error& error) {
  log::error(one_line(error.message()));
  end_vm();
}

// From the config on, the host hears why: a failure frame, which ends the pod with 254.
[[noreturn]] void fail(ControlChannel& channel, const Error& error) {
  std::string line = one_line(error.message());
  log::error(line);
  (void)channel.send(FrameType::kFailure, 0, line);
  end_vm();
}

// The kernel opens /dev/console as PID 1's stdio only if the initramfs has it; without, fds
// 0-2 would be free and the control channel could land on fd 1, where a stray printf would
// corrupt it.
void ensure_stdio() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int opened = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (opened < 0) opened = ::open("/dev/null", O_RDWR);
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
}

std::string kernel_release() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  return name.release;
}

// The config, and the stop signals that came before it (delivered once the supervisor runs,
// which then stops the apps before they start, as stage1-ns does).
Result<GuestConfig> wait_for_config(ControlChannel& channel, std::vector<int>& early_signals) {
  for (;;) {
    guest_protocol::Frame frame = PODRT_TRY(channel.wait_frame());
    if (frame.type == FrameType::kConfig) return guest_protocol::parse_guest_config(frame.payload);
    if (frame.type == FrameType::kSignal) {
      int signal = 0;
      const std::string& text = frame.payload;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), signal);
      if (error == std::errc() && end == text.data() + text.size() && signal > 0 &&
          signal <= SIGRTMAX)
        early_signals.push_back(signal);
    }
    // stdin and resize before the app exists have nowhere to go.
  }
}

struct PreparedPod {
  PodStdio stdio;
  std::vector<cgroups::Cgroup> app_cgroups;
};

Result<PreparedPod> prepare(GuestConfig& config) {
  if (!config.hostname.empty() &&
      ::sethostname(config.hostname.data(), config.hostname.size()) != 0)
    return Error::from_errno("set the hostname " + config.hostname);
  PODRT_TRY(set_up_network(config.network));
  trace("network up");
  PreparedPod pod;
  pod.stdio = PODRT_TRY(make_pod_stdio(config.plan, config.interactive));
  PODRT_TRY(mount_pod(plan_pod_mounts(config, pod.stdio.terminal_path)));
  trace("app roots mounted");
  cgroups::Hierarchies hierarchies = PODRT_TRY(cgroups::Hierarchies::detect());
  pod.app_cgroups = PODRT_TRY(create_pod_cgroups(hierarchies, kPodCgroup, config));
  // Where guest-init mounted them, whatever the host wrote.
  for (supervisor::AppSpec& app : config.plan.apps)
    app.root = guest_protocol::app_root_in_guest(app.name);
  config.plan.status_dir = kStatusDir;
  PODRT_TRY(sys::make_directories(kStatusDir, 0755));
  return pod;
}

[[noreturn]] void run() {
  // First of all, so that the builtin VMM's boot time ends where guest-init begins.
  signal_boot_timer();
  // A write to a closed pipe or socket is an error to handle, not a reason for PID 1 to die.
  ::signal(SIGPIPE, SIG_IGN);
  if (auto blocked = block_pod_signals(); !blocked) die_on_console(blocked.error());
  if (auto mounted = mount_early_filesystems(); !mounted) die_on_console(mounted.error());
  ensure_stdio();
  enable_trace_from_cmdline();
  trace("early mounts done");
  auto device = open_control_device(ControlDevice{}, kControlDeviceTimeoutMs);
  if (!device) die_on_console(device.error());
  auto adopted = ControlChannel::adopt(std::move(*device));
  if (!adopted) die_on_console(adopted.error());
  ControlChannel channel = std::move(*adopted);
  if (auto hello = channel.send(FrameType::kHello, 0, kernel_release()); !hello)
    die_on_console(hello.error());

  trace("hello sent");
  std::vector<int> early_signals;
  auto config = wait_for_config(channel, early_signals);
  if (!config) fail(channel, config.error());
  trace("config received");
  auto pod = prepare(*config);
  if (!pod) fail(channel, pod.error());
  trace("pod set up (network, mounts, cgroups)");

  std::vector<int> guest_init_fds = {channel.fd()};
  for (const OutputSource& source : pod->stdio.outputs) guest_init_fds.push_back(source.fd.get());
  if (pod->stdio.terminal) guest_init_fds.push_back(pod->stdio.terminal.get());
  auto supervisor = start_supervisor(config->plan, pod->stdio.supervisor_stderr.get(),
                                     guest_init_fds);
  if (!supervisor) fail(channel, supervisor.error());
  // The write ends are the supervisor's now: the read ends see EOF once the pod is gone.
  pod->stdio.child_ends.clear();
  pod->stdio.supervisor_stderr.reset();
  for (int signal : early_signals) ::kill(*supervisor, signal);

  RelayOptions options;
  options.supervisor = *supervisor;
  options.plan = &config->plan;
  options.outputs = std::move(pod->stdio.outputs);
  options.terminal = std::move(pod->stdio.terminal);
  options.kill_leftovers = true;
  PodRelay relay(channel, std::move(options));
  trace("supervisor started");
  auto code = relay.run();
  trace("pod over");
  if (!code) {
    // No host to report to: the pod ends with the VM.
    log::error(one_line(code.error().message()));
    end_vm();
  }
  auto results = collect_results(config->plan, pod->app_cgroups, *code);
  if (auto reported = report_pod_end(channel, results, *code); !reported)
    log::error(one_line(reported.error().message()));
  trace("results sent, ending the VM");
  end_vm();
}

}  // namespace
}  // namespace podrt::guest_init

int main() {
  // Rebooting is the only way out, which must never happen to a host that runs this by
  // mistake.
  if (::getpid() != 1) {
    std::fprintf(stderr, "podrt-guest-init: runs only as PID 1 of a stage1-kvm VM\n");
    return 254;
  }
  podrt::guest_init::run();
}
