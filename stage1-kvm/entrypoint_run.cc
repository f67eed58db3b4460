// stage1-kvm's run entrypoint: set up the pod's network as stage1-ns does (CNI, then a tap
// mirrored to the veth), build the guest config and the VM from the pod, boot it, and serve
// the control channel until the guest reports the pod's end.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "common/log.h"
#include "stage1-ns/metadata_service.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage1-kvm/enter_sessions.h"
#include "stage1-kvm/entrypoints.h"
#include "stage1-kvm/guest_files.h"
#include "stage1-kvm/kvm_pod_flags.h"
#include "stage1-kvm/pod_tap.h"
#include "stage1-kvm/pod_vm.h"
#include "stage1-kvm/builtin/builtin_hypervisor.h"
#include "stage1-kvm/qemu/qemu_hypervisor.h"
#include "stage1-kvm/vm_session.h"
#include "stage1-ns/etc_files.h"
#include "stage1-ns/loaded_pod.h"
#include "stage1-ns/pod_services.h"
#include "stage1-ns/terminal.h"

namespace podrt::stage1_kvm {
namespace {

/// What the pod holds on the host, undone when run() returns, whatever way.
class PodResources {
 public:
  explicit PodResources(std::string pod_dir) : pod_dir_(std::move(pod_dir)) {}
  PodResources(const PodResources&) = delete;
  PodResources& operator=(const PodResources&) = delete;
  ~PodResources() {
    vm.reset();  // the VM goes first: it holds the tap
    metadata.reset();
    tap.reset();
    network.reset();
    if (auto torn = stage1::network::teardown_pod_network(pod_dir_); !torn)
      log::warning("pod network teardown: " + torn.error().message());
  }
  std::optional<stage1::network::PodNetwork> network;
  std::optional<PodTap> tap;
  std::optional<stage1::MetadataService> metadata;
  std::unique_ptr<RunningVm> vm;

 private:
  std::string pod_dir_;
};

Result<std::pair<UniqueFd, UniqueFd>> stream_socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return Error::from_errno("socketpair");
  return std::pair<UniqueFd, UniqueFd>{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string kernel_command_line(bool debug) {
  // reboot=t: the guest's final reboot is a triple fault, which ends QEMU (-no-reboot) in
  // milliseconds; panic=-1: a guest kernel panic reboots, so it ends the pod too.
  // no_timer_check (as Kata's guests have): the kernel's boot test that the timer interrupt
  // arrives within a busy-wait fails on a loaded host under TCG ("IO-APIC + timer doesn't
  // work!", a panic): 2 of 20 rounds of 10 pods at once on 2 cores did in bench/run.
  std::string line = "console=ttyS0 reboot=t panic=-1 8250.nr_uarts=1 no_timer_check";
  // --debug: the console unmuted, and guest-init's phase timestamps on it.
  line += debug ? " podrt.trace" : " quiet";
  // Extra kernel arguments, as Firecracker's boot_args: for debugging a guest (and its tests).
  if (const char* extra = std::getenv("PODRT_KVM_KERNEL_ARGS"); extra != nullptr && *extra != '\0')
    line += std::string(" ") + extra;
  return line;
}

}  // namespace

Result<int> run_pod(const KvmRunOptions& options) {
  const stage1::RunOptions& pod_options = options.pod;
  stage1::LoadedPod pod = PODRT_TRY(stage1::take_pod_to_run(pod_options));
  PODRT_TRY(refuse_what_a_vm_cannot_do(pod_options.private_users, pod_options.networks));

  std::string kernel = PODRT_TRY(find_guest_kernel());
  std::string guest_init = PODRT_TRY(find_guest_init());
  std::string initramfs = PODRT_TRY(ensure_initramfs(pod_options.data_dir, guest_init));
  std::unique_ptr<Hypervisor> hypervisor;
  if (options.hypervisor == "qemu") {
    hypervisor = std::make_unique<QemuHypervisor>(PODRT_TRY(find_qemu()));
  } else if (options.hypervisor == "builtin") {
    hypervisor = std::make_unique<BuiltinHypervisor>(PODRT_TRY(find_builtin_vmm()));
  } else {
    return Error::invalid("--hypervisor=" + options.hypervisor + " is not available yet: use qemu");
  }

  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGWINCH}) sigaddset(&signals, sig);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout must not kill the pod's stage1

  PodResources resources(pod.dir);
  stage1::network::NetworkOptions net_options = stage1::pod_network_options(pod, pod_options);
  bool no_network = net_options.networks == std::vector<std::string>{"none"};
  if (no_network && !net_options.ports.empty())
    return Error::invalid("--port needs a pod network: not --net=none");
  resources.network = no_network ? stage1::network::PodNetwork{}
                                 : PODRT_TRY(stage1::network::setup_pod_network(net_options));
  unsigned mtu = 1500;
  if (!resources.network->attachments.empty()) {
    if (resources.network->attachments.size() > 1)
      return Error::invalid("a kvm pod joins one network (--net takes one entry with --stage1=kvm)");
    resources.tap = PODRT_TRY(create_pod_tap(resources.network->netns_path,
                                             resources.network->attachments[0].interface));
    mtu = resources.tap->mtu;
  }

  std::string hostname = pod_options.hostname.empty() ? "podrt-" + pod.uuid : pod_options.hostname;
  std::vector<stage1::rootfs::BindSpec> etc_binds = PODRT_TRY(stage1::write_etc_files(
      pod.file(pods::kEtcDir), hostname, pod_options, *resources.network));
  PODRT_TRY(sys::make_directories(pod.file(pods::kAppStatusDir), 0755));
  PodVm vm = PODRT_TRY(plan_pod_vm(pod, pod_options, *resources.network, etc_binds, mtu));

  if (auto address = stage1::metadata_address(*resources.network)) {
    resources.metadata = PODRT_TRY(stage1::start_metadata(pod, *address));
    for (supervisor::AppSpec& app : vm.config.plan.apps)
      app.environment.push_back("AC_METADATA_URL=" + resources.metadata->url());
  }
  std::string config_json = guest_protocol::to_json(vm.config).dump();
  if (config_json.size() > guest_protocol::kMaxPayload)
    return Error::invalid("the pod's guest config is " + std::to_string(config_json.size()) +
                          " bytes, more than the control channel's frame limit");

  auto [control_host, control_guest] = PODRT_TRY(stream_socket_pair());
  auto [console_host, console_guest] = PODRT_TRY(stream_socket_pair());
  int stderr_pipe[2];
  if (::pipe2(stderr_pipe, O_CLOEXEC) != 0) return Error::from_errno("pipe");
  UniqueFd stderr_read(stderr_pipe[0]), stderr_write(stderr_pipe[1]);

  VmSpec spec;
  spec.name = "podrt-" + pod.uuid;
  spec.kernel = kernel;
  spec.initramfs = initramfs;
  spec.command_line = kernel_command_line(pod_options.debug);
  spec.memory_mib = vm.memory_mib;
  spec.vcpus = vm.vcpus;
  spec.acceleration = options.acceleration;
  spec.disks = vm.disks;
  spec.shares = vm.shares;
  if (resources.tap) spec.nics.push_back({resources.tap->fd.get(), resources.tap->mac});
  spec.control_fd = control_guest.get();
  spec.console_fd = console_guest.get();
  spec.stderr_fd = stderr_write.get();

  // --interactive: the caller's terminal in raw mode for the pod's life (restored on return).
  std::optional<stage1::Terminal> terminal;
  if (pod_options.interactive) terminal.emplace(PODRT_TRY(stage1::Terminal::open()));

  log::debug("starting " + hypervisor->name() + ": " + std::to_string(spec.memory_mib) + " MiB, " +
             std::to_string(spec.vcpus) + " vCPU, " + (spec.acceleration == Acceleration::kKvm ? "KVM" : "TCG"));
  resources.vm = PODRT_TRY(hypervisor->start(spec));
  control_guest.reset();
  console_guest.reset();
  stderr_write.reset();
  if (resources.tap) resources.tap->fd.reset();  // the hypervisor holds the tap now
  PODRT_TRY(sys::write_file_atomic(pod.file(kHypervisorPidFile), std::to_string(resources.vm->pid()),
                                   0644, sys::Sync::No));
  PODRT_TRY(sys::write_file_atomic(pod.file(pods::kPidFile), std::to_string(::getpid()), 0644,
                                   sys::Sync::No));

  SessionOptions session_options;
  session_options.config_json = std::move(config_json);
  for (const stage1::LoadedApp& app : pod.apps) session_options.app_names.push_back(app.pod_app.name);
  session_options.status_dir = pod.file(pods::kAppStatusDir);
  session_options.console_log = pod.file(kConsoleLogFile);
  session_options.echo_console = pod_options.debug;
  session_options.interactive = pod_options.interactive;
  session_options.enter_socket = kEnterSocket;
  VmSession session(std::move(session_options), std::move(control_host), std::move(console_host),
                    std::move(stderr_read));
  return session.run(*resources.vm);
}

}  // namespace podrt::stage1_kvm
