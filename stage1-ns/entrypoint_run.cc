// stage1-ns's run entrypoint (docs/stage1-contract.md): set up the pod's cgroups, network,
// metadata service and root, start the pod init, relay signals (and the terminal) until the
// pod ends, then undo everything and exit with the pod's code.
#include "stage1-ns/entrypoints.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "common/cgroups/cgroup.h"
#include "common/log.h"
#include "stage1-ns/metadata_service.h"
#include "common/supervisor/supervisor.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage1-ns/app_plan.h"
#include "stage1-ns/etc_files.h"
#include "stage1-ns/loaded_pod.h"
#include "stage1-ns/network/pod_network.h"
#include "stage1-ns/pod_process.h"
#include "stage1-ns/pod_services.h"
#include "stage1-ns/terminal.h"
#include "stage1-ns/user_namespace.h"

namespace podrt::stage1 {
namespace {

constexpr const char* kStatusInPod = "/podrt/status";
constexpr const char* kCgroupsInPod = "/podrt/cgroup";

/// Everything the pod holds on the host, undone in reverse order when it goes out of scope,
/// whatever way run() returns.
class PodResources {
 public:
  explicit PodResources(std::string pod_dir) : pod_dir_(std::move(pod_dir)) {}
  PodResources(const PodResources&) = delete;
  PodResources& operator=(const PodResources&) = delete;
  ~PodResources() {
    metadata.reset();
    network.reset();
    if (auto torn = network::teardown_pod_network(pod_dir_); !torn)
      log::warning("pod network teardown: " + torn.error().message());
    if (cgroup) {
      if (auto destroyed = cgroup->destroy(); !destroyed)
        log::warning("pod cgroup removal: " + destroyed.error().message());
    }
  }
  std::optional<cgroups::Cgroup> cgroup;
  std::vector<cgroups::Cgroup> app_cgroups;
  std::optional<network::PodNetwork> network;
  std::optional<MetadataService> metadata;

 private:
  std::string pod_dir_;
};

Result<cgroups::Cgroup> make_pod_cgroup(const LoadedPod& pod) {
  cgroups::Hierarchies hierarchies = PODRT_TRY(cgroups::Hierarchies::detect());
  std::string relative = "podrt-" + pod.uuid;
  // Recorded before it exists, so that gc after a SIGKILL finds it whatever happened next.
  std::string planned;
  for (const cgroups::Hierarchy& hierarchy : hierarchies.hierarchies) {
    std::string own = hierarchy.own_path == "/" ? "" : hierarchy.own_path;
    planned += hierarchy.mount_point + own + "/" + relative + "\n";
  }
  PODRT_TRY(sys::write_file_atomic(pod.file(pods::kCgroupsFile), planned, 0644, sys::Sync::No));
  return cgroups::Cgroup::create(hierarchies, relative);
}

/// Forwards stop signals to the pod init and relays the terminal until the pod init exits.
Result<int> supervise(pid_t init, Terminal* terminal) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGWINCH}) sigaddset(&signals, sig);
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
  if (!signal_fd) return Error::from_errno("signalfd");
  bool relay_stdin = terminal != nullptr;
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(init, &status, WNOHANG);
    if (done == init) {
      // Drain what the app wrote last.
      if (terminal) while (terminal->relay(false, true)) {
        pollfd pfd{terminal->master(), POLLIN, 0};
        if (::poll(&pfd, 1, 0) <= 0) break;
      }
      return exit_code_of(status);
    }
    pollfd fds[3] = {{signal_fd.get(), POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    if (terminal) {
      fds[1].fd = relay_stdin ? STDIN_FILENO : -1;
      fds[2].fd = terminal->master();
    }
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) return Error::from_errno("poll");
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGWINCH && terminal) terminal->sync_window_size();
        else if (sig != SIGCHLD && sig != SIGWINCH) ::kill(init, sig);
      }
    }
    if (terminal) {
      if (fds[1].revents & (POLLHUP | POLLERR)) relay_stdin = false;
      terminal->relay(fds[1].revents & POLLIN, fds[2].revents & POLLIN);
    }
  }
}

/// Tells the user which apps the kernel's OOM killer hit ("the pod says so").
void report_oom(const LoadedPod& pod, const std::vector<cgroups::Cgroup>& app_cgroups) {
  for (size_t i = 0; i < app_cgroups.size() && i < pod.apps.size(); ++i) {
    auto kills = app_cgroups[i].oom_kill_count();
    if (!kills || *kills == 0) continue;
    std::string name = pod.apps[i].pod_app.name;
    log::error("app " + name + " was killed: out of memory (its memory limit was reached)");
    (void)sys::write_file_atomic(pod.file(pods::kAppStatusDir) + "/" + name + ".oom", "true\n", 0644, sys::Sync::No);
  }
}

}  // namespace

Result<int> run_pod(const RunOptions& options) {
  LoadedPod pod = PODRT_TRY(take_pod_to_run(options));
  // Made now, while stage1 has no thread: creating it forks.
  std::optional<UserNamespace> userns;
  if (options.private_users) {
    if (::geteuid() != 0)
      return Error::invalid("--private-users needs root: stage1 sets up the pod as root, then "
                            "runs its processes as unprivileged ids");
    IdShift shift = PODRT_TRY(allocate_id_shift(options.data_dir, pod.dir, pod.uuid));
    userns.emplace(PODRT_TRY(UserNamespace::create(shift)));
  }

  // Signals are taken through signalfd from here on; blocking them now means one arriving
  // while the pod starts waits for us instead of killing stage1 half-way.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGWINCH}) sigaddset(&signals, sig);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);

  PodResources resources(pod.dir);
  resources.cgroup = PODRT_TRY(make_pod_cgroup(pod));

  network::NetworkOptions net_options = pod_network_options(pod, options);
  bool loopback_only = net_options.networks == std::vector<std::string>{"none"};
  if (loopback_only && !net_options.ports.empty())
    return Error::invalid("--port needs a pod network: not --net=none");
  resources.network = loopback_only ? network::PodNetwork{}
                                    : PODRT_TRY(network::setup_pod_network(net_options));

  std::string hostname = options.hostname.empty() ? "podrt-" + pod.uuid : options.hostname;
  std::vector<rootfs::BindSpec> etc_binds = PODRT_TRY(
      write_etc_files(pod.file(pods::kEtcDir), hostname, options, *resources.network));
  PODRT_TRY(sys::make_directories(pod.file(pods::kAppStatusDir), 0755));

  std::optional<Terminal> terminal;
  if (options.interactive) terminal.emplace(PODRT_TRY(Terminal::open()));

  // Plans first (without the metadata URL, known only once the server runs), then the pod
  // process: it must be cloned before any thread exists.
  PodProcessConfig config;
  config.hostname = hostname;
  config.netns_path = resources.network->netns_path;
  config.loopback_only = loopback_only;
  config.init_binary = sys::own_directory() + "/podrt-pod-init";
  config.root.path = pod.file(pods::kPodRootDir);
  PODRT_TRY(sys::make_directories(config.root.path, 0755));
  config.cgroup_procs_files = resources.cgroup->procs_files();
  config.init_cgroup_procs_files = PODRT_TRY(resources.cgroup->create_child("_init")).procs_files();
  // What the pod init writes as the pod's root: app statuses, and its processes' cgroups.
  std::vector<std::string> pod_root_owns = {pod.file(pods::kAppStatusDir)};
  pod_root_owns.insert(pod_root_owns.end(), config.cgroup_procs_files.begin(),
                       config.cgroup_procs_files.end());
  pod_root_owns.insert(pod_root_owns.end(), config.init_cgroup_procs_files.begin(),
                       config.init_cgroup_procs_files.end());
  supervisor::PodPlan plan;
  plan.status_dir = kStatusInPod;
  config.root.binds.push_back({pod.file(pods::kAppStatusDir), kStatusInPod, false, false, ""});
  for (size_t h = 0; h < resources.cgroup->directories().size(); ++h)
    config.root.binds.push_back({resources.cgroup->directories()[h],
                                 std::string(kCgroupsInPod) + "/" + std::to_string(h), false, false, ""});
  for (const LoadedApp& app : pod.apps) {
    const std::string& name = app.pod_app.name;
    std::string root_in_pod = "/opt/stage2/" + name + "/rootfs";
    AppPlan app_plan = PODRT_TRY(plan_app(pod, app, options, root_in_pod, ""));
    cgroups::Cgroup app_cgroup = PODRT_TRY(resources.cgroup->create_child(name));
    PODRT_TRY_CONTEXT(app_cgroup.apply(app_plan.limits), "app " + name);
    resources.app_cgroups.push_back(app_cgroup);
    for (const std::string& procs : app_cgroup.procs_files()) pod_root_owns.push_back(procs);
    for (size_t h = 0; h < resources.cgroup->directories().size(); ++h)
      app_plan.spec.cgroup_procs_files.push_back(std::string(kCgroupsInPod) + "/" +
                                                 std::to_string(h) + "/" + name + "/cgroup.procs");
    if (terminal) app_plan.spec.terminal_fd = terminal->replica();

    rootfs::AppRootfs app_root;
    app_root.path = config.root.path + root_in_pod;
    app_root.lower = app.render;
    std::string overlay = pod.file(pods::kOverlayDir) + "/" + name;
    app_root.upper = overlay + "/upper";
    app_root.work = overlay + "/work";
    app_root.read_only = app.pod_app.read_only_root_fs;
    app_root.harden_paths = !options.disable_paths;
    if (terminal) app_root.terminal = terminal->replica_path();
    app_root.binds = app_plan.volume_binds;
    app_root.binds.insert(app_root.binds.end(), etc_binds.begin(), etc_binds.end());
    if (userns) {
      app_root.userns_fd = userns->fd();
      app_root.root_id = userns->shift().base;
      pod_root_owns.push_back(app_root.upper);
      pod_root_owns.push_back(app_root.work);
    }
    config.root.apps.push_back(std::move(app_root));
    plan.apps.push_back(std::move(app_plan.spec));
  }
  UniqueFd plan_fd(::memfd_create("podrt-plan", 0));  // inherited by the pod init on purpose
  if (!plan_fd) return Error::from_errno("memfd_create");
  config.plan_fd = plan_fd.get();
  if (userns) {
    config.userns_fd = userns->fd();
    config.id_shift = userns->shift();
    for (const std::string& path : pod_root_owns) PODRT_TRY(give_to_pod_root(path, userns->shift()));
  }

  PodProcess process = PODRT_TRY(PodProcess::start(config));
  // From here on the pod process exists: kill it on any error (it would die with us anyway).
  auto kill_pod = [&] { ::kill(process.pid(), SIGKILL); ::waitpid(process.pid(), nullptr, 0); };

  if (auto address = metadata_address(*resources.network)) {
    auto server = start_metadata(pod, *address);
    if (!server) {
      kill_pod();
      return std::move(server).error();
    }
    resources.metadata = std::move(*server);
    for (supervisor::AppSpec& app : plan.apps)
      app.environment.push_back("AC_METADATA_URL=" + resources.metadata->url());
  }
  std::string plan_json = supervisor::to_json(plan).dump();
  auto saved = sys::write_file_atomic(pod.file(pods::kPlanFile), plan_json, 0600, sys::Sync::No);
  if (!saved || ::pwrite(plan_fd.get(), plan_json.data(), plan_json.size(), 0) !=
                    static_cast<ssize_t>(plan_json.size())) {
    kill_pod();
    return saved ? Error::from_errno("write the pod plan") : std::move(saved).error();
  }
  if (auto went = process.go(); !went) {
    kill_pod();
    return std::move(went).error();
  }
  plan_fd.reset();
  if (terminal) terminal->close_replica();
  PODRT_TRY(sys::write_file_atomic(pod.file(pods::kPidFile), std::to_string(process.pid()), 0644, sys::Sync::No));

  int code = PODRT_TRY(supervise(process.pid(), terminal ? &*terminal : nullptr));
  report_oom(pod, resources.app_cgroups);
  return code;
}

}  // namespace podrt::stage1
