// Commands that make and start pods: podrt prepare | run | run-prepared.
// App flags apply to every app of the pod; --exec, --name and `--` arguments need one image.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/appc/isolators.h"
#include "common/appc/pod_manifest.h"
#include "common/log.h"
#include "common/sys/file.h"
#include "stage0/cli/arguments.h"
#include "stage0/cli/command.h"
#include "stage0/cli/pod_arguments.h"
#include "stage0/host/hypervisor_choice.h"
#include "stage0/pods/pod_files.h"
#include "stage0/pods/pod_preparer.h"
#include "stage0/pods/pod_store.h"
#include "stage0/pods/stage1_launcher.h"
#include "stage1-kvm/kvm_pod_flags.h"

extern char** environ;

namespace podrt::cli {
namespace {

/// rkt's per-app flags (run.md "addAppFlags", "addIsolatorFlags").
struct AppFlags {
  std::string exec, name, user, group, working_dir;
  std::vector<std::string> environment, mounts, rlimits;
  std::vector<uint32_t> supplementary_gids;
  std::string memory, cpu, caps_retain, caps_remove, seccomp;
  std::optional<int64_t> cpu_shares, oom_score_adj, pids_limit;
  bool readonly_rootfs = false;
  bool no_new_privileges = false;
};

/// Pod flags shared by prepare and run.
struct PodFlags {
  std::vector<std::string> volumes, ports, set_env;
  bool inherit_env = false;
};

struct RunOptions {
  std::vector<std::string> images;
  std::string uuid;
  AppFlags app;
  PodFlags pod;
  pods::Stage1RunOptions stage1;
  std::string max_image_size = "16G";
  bool quiet = false;
};

void add_app_flags(CLI::App* command, AppFlags& flags) {
  command->add_option("--exec", flags.exec, "run this executable instead of the image's");
  command->add_option("--name", flags.name, "the app's name in the pod");
  command->add_option("--user", flags.user, "run as this user (number or name in the image)");
  command->add_option("--group", flags.group, "run as this group (number or name in the image)");
  command->add_option("--supplementary-gids", flags.supplementary_gids,
                      "supplementary group ids")->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--working-dir", flags.working_dir, "the app's working directory");
  command->add_option("--environment", flags.environment, "NAME=VALUE for the app (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--mount", flags.mounts, "volume=NAME,target=PATH (repeatable)")
      ->allow_extra_args(false);
  command->add_flag("--readonly-rootfs", flags.readonly_rootfs, "mount the app's rootfs read-only");
  command->add_option("--memory", flags.memory, "memory limit (e.g. 64M, 1Gi)");
  command->add_option("--cpu", flags.cpu, "CPU limit in cores or millicores (e.g. 500m)");
  command->add_option("--cpu-shares", flags.cpu_shares, "relative CPU weight (2..262144)");
  command->add_option("--pids-limit", flags.pids_limit, "most processes the app may have");
  command->add_option("--caps-retain", flags.caps_retain, "capabilities to keep (CAP_A,CAP_B)");
  command->add_option("--caps-remove", flags.caps_remove, "capabilities to drop (CAP_A,CAP_B)");
  command->add_option("--seccomp", flags.seccomp,
                      "mode=retain|remove[,errno=ENAME],SYSCALL,... (rkt's syntax)");
  command->add_option("--oom-score-adj", flags.oom_score_adj, "the app's OOM score (-1000..1000)");
  command->add_option("--rlimit", flags.rlimits, "NOFILE=SOFT[:HARD] (repeatable)")
      ->allow_extra_args(false);
  command->add_flag("--no-new-privileges", flags.no_new_privileges,
                    "set no_new_privs for the app");
}

void add_pod_flags(CLI::App* command, PodFlags& flags) {
  command->add_option("--volume", flags.volumes,
                      "NAME,kind=host,source=PATH[,readOnly=true] or NAME,kind=empty (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--port", flags.ports, "NAME:[HOSTIP:]HOSTPORT (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--set-env", flags.set_env, "NAME=VALUE for every app (repeatable)")
      ->allow_extra_args(false);
  command->add_flag("--inherit-env", flags.inherit_env, "pass podrt's environment to the apps");
}

void add_runtime_flags(CLI::App* command, pods::Stage1RunOptions& stage1) {
  command->add_option("--stage1", stage1.stage1, "isolation: ns (namespaces) or kvm (a VM)")
      ->capture_default_str();
  command->add_option("--hypervisor", stage1.hypervisor,
                      "with --stage1=kvm: auto, qemu, builtin or libvirt")
      ->capture_default_str();
  command->add_option("--net", stage1.networks,
                      "default, default-restricted, none, host or a network in DIR/net.d")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--dns", stage1.dns, "name server for the pod (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--dns-search", stage1.dns_search, "DNS search domain (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--dns-opt", stage1.dns_options, "resolv.conf option (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--hosts-entry", stage1.hosts_entries, "IP=NAME for /etc/hosts (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--hostname", stage1.hostname, "the pod's hostname (default podrt-UUID)");
  command->add_flag("--interactive", stage1.interactive,
                    "give the app this terminal (single-app pods)");
  command->add_flag("--private-users", stage1.private_users,
                    "run the pod in a user namespace with unprivileged ids");
}

Result<void> add_isolator(pods::AppRequest& app, std::string name, nlohmann::json value,
                          const std::string& flag) {
  PODRT_TRY(appc::validate_isolator_value(name, value, flag));
  app.isolators.push_back(appc::Isolator{std::move(name), std::move(value)});
  return ok();
}

Result<void> apply_app_flags(const AppFlags& flags, pods::AppRequest& app) {
  if (!flags.exec.empty()) app.exec = flags.exec;
  if (!flags.name.empty()) app.name = flags.name;
  if (!flags.user.empty()) app.user = flags.user;
  if (!flags.group.empty()) app.group = flags.group;
  if (!flags.working_dir.empty()) app.working_directory = flags.working_dir;
  if (!flags.supplementary_gids.empty()) app.supplementary_gids = flags.supplementary_gids;
  app.read_only_rootfs = flags.readonly_rootfs;
  for (const std::string& text : flags.environment)
    app.environment.push_back(PODRT_TRY(parse_environment_variable(text)));
  for (const std::string& text : flags.mounts) app.mounts.push_back(PODRT_TRY(parse_mount(text)));
  if (!flags.memory.empty()) {
    if (!appc::is_valid_quantity(flags.memory))
      return Error::invalid("--memory " + flags.memory + ": not a quantity (e.g. 64M, 1Gi)");
    PODRT_TRY(add_isolator(app, "resource/memory", {{"limit", flags.memory}}, "--memory"));
  }
  if (!flags.cpu.empty()) {
    if (!appc::is_valid_quantity(flags.cpu))
      return Error::invalid("--cpu " + flags.cpu + ": not a quantity (e.g. 500m, 2)");
    PODRT_TRY(add_isolator(app, "resource/cpu", {{"limit", flags.cpu}}, "--cpu"));
  }
  // Unsigned where appc wants a positive number (the validator reads JSON's unsigned kind).
  if (flags.cpu_shares) {
    if (*flags.cpu_shares < 2) return Error::invalid("--cpu-shares must be 2 to 262144");
    PODRT_TRY(add_isolator(app, "os/linux/cpu-shares", static_cast<uint64_t>(*flags.cpu_shares),
                           "--cpu-shares"));
  }
  if (flags.oom_score_adj)
    PODRT_TRY(add_isolator(app, "os/linux/oom-score-adj", *flags.oom_score_adj, "--oom-score-adj"));
  if (flags.pids_limit) {
    if (*flags.pids_limit < 1) return Error::invalid("--pids-limit must be at least 1");
    app.isolators.push_back({std::string(appc::kPidsLimitIsolator),
                             {{"max", static_cast<uint64_t>(*flags.pids_limit)}}});
  }
  if (!flags.caps_retain.empty() && !flags.caps_remove.empty())
    return Error::invalid("--caps-retain and --caps-remove cannot be used together");
  if (!flags.caps_retain.empty()) {
    appc::Isolator caps = PODRT_TRY(parse_capabilities(flags.caps_retain, true));
    PODRT_TRY(add_isolator(app, caps.name, caps.value, "--caps-retain"));
  }
  if (!flags.caps_remove.empty()) {
    appc::Isolator caps = PODRT_TRY(parse_capabilities(flags.caps_remove, false));
    PODRT_TRY(add_isolator(app, caps.name, caps.value, "--caps-remove"));
  }
  if (!flags.seccomp.empty()) {
    appc::Isolator seccomp = PODRT_TRY(parse_seccomp(flags.seccomp));
    PODRT_TRY(add_isolator(app, seccomp.name, seccomp.value, "--seccomp"));
  }
  if (flags.no_new_privileges)
    PODRT_TRY(add_isolator(app, "os/linux/no-new-privileges", true, "--no-new-privileges"));
  if (!flags.rlimits.empty()) {
    nlohmann::json limits = nlohmann::json::object();
    for (const std::string& text : flags.rlimits) {
      auto [name, value] = PODRT_TRY(parse_rlimit(text));
      limits[name] = value;
    }
    app.isolators.push_back({std::string(appc::kRlimitsIsolator), limits});
  }
  return ok();
}

Result<pods::PrepareRequest> make_prepare_request(CommandContext& context,
                                                  const RunOptions& options) {
  const AppFlags& flags = options.app;
  if (options.images.size() > 1 &&
      (!flags.exec.empty() || !flags.name.empty() || !context.app_arguments.empty()))
    return Error::invalid("--exec, --name and -- arguments need exactly one image");
  pods::PrepareRequest request;
  request.fetch_policy =
      PODRT_TRY(make_fetch_policy(context.globals.insecure_options, options.max_image_size));
  for (const std::string& image : options.images) {
    pods::AppRequest app;
    app.image = image;
    PODRT_TRY(apply_app_flags(flags, app));
    app.arguments = context.app_arguments;
    request.apps.push_back(std::move(app));
  }
  for (const std::string& text : options.pod.volumes)
    request.volumes.push_back(PODRT_TRY(parse_volume(text)));
  for (const std::string& text : options.pod.ports)
    request.ports.push_back(PODRT_TRY(parse_port(text)));
  for (const std::string& text : options.pod.set_env)
    request.pod_environment.push_back(PODRT_TRY(parse_environment_variable(text)));
  if (options.pod.inherit_env)
    for (char** variable = environ; *variable; ++variable)
      if (auto pair = parse_environment_variable(*variable))
        request.inherited_environment.push_back(std::move(*pair));
  return request;
}

Result<std::string> prepare_from(CommandContext& context, const RunOptions& options) {
  pods::PrepareRequest request = PODRT_TRY(make_prepare_request(context, options));
  store::ImageStore images = PODRT_TRY(store::ImageStore::open(context.globals.dir));
  pods::PodStore pods = PODRT_TRY(pods::PodStore::open(context.globals.dir));
  return pods::prepare_pod(images, pods, request);
}

/// --stage1=kvm: what the VM runs under, from --hypervisor and what this host can do. `auto`
/// says what it picked, once, on stderr.
Result<void> choose_kvm_hypervisor(pods::Stage1RunOptions& stage1, host::PodNeeds needs) {
  PODRT_TRY(stage1_kvm::refuse_what_a_vm_cannot_do(stage1.private_users, stage1.networks));
  host::HostPaths paths = host::HostPaths::from_environment();
  host::HypervisorChoice choice = PODRT_TRY(host::choose_hypervisor(
      stage1.hypervisor, host::probe_kvm(paths), host::probe_qemu(paths).path.has_value(), needs));
  if (stage1.hypervisor == "auto") log::info("--hypervisor=auto: " + choice.reason);
  stage1.hypervisor = choice.hypervisor;
  stage1.acceleration = choice.acceleration;
  return ok();
}

Result<void> check_runtime_flags(const GlobalOptions& globals, pods::Stage1RunOptions& stage1,
                                 host::PodNeeds needs) {
  if (::geteuid() != 0 && !stage1.private_users)
    return Error::invalid("running a pod needs root (add --private-users to run its apps as "
                          "unprivileged ids)");
  // As in rkt: the pod's processes get unprivileged ids, but stage1 still makes its cgroups,
  // network and mounts (and the idmapped ones need the host's root).
  if (::geteuid() != 0)
    return Error::invalid("--private-users needs root too: it runs the pod's processes as "
                          "unprivileged ids, but stage1 sets the pod up as root");
  if (stage1.interactive && !::isatty(STDIN_FILENO))
    return Error::invalid("--interactive needs a terminal on stdin");
  std::set<std::string> insecure = PODRT_TRY(parse_insecure_options(globals.insecure_options));
  stage1.disable_seccomp = insecure.count("seccomp") > 0;
  stage1.disable_capabilities = insecure.count("capabilities") > 0;
  stage1.disable_paths = insecure.count("paths") > 0;
  stage1.data_dir = globals.dir;
  stage1.debug = globals.debug;
  PODRT_TRY(pods::stage1_binary(stage1.stage1));
  if (stage1.stage1 == "kvm") PODRT_TRY(choose_kvm_hypervisor(stage1, needs));
  return ok();
}

/// Locks the prepared pod, moves it to run and becomes its stage1.
Result<int> start(const GlobalOptions& globals, const std::string& uuid,
                  const pods::Stage1RunOptions& stage1) {
  pods::PodStore pods = PODRT_TRY(pods::PodStore::open(globals.dir));
  pods::PodInfo pod = PODRT_TRY(pods.find(uuid));
  if (pod.state != pods::PodState::Prepared)
    return Error::invalid("pod " + pod.uuid + " is " + std::string(pods::state_name(pod.state)) +
                          ", not prepared");
  sys::FileLock lock = PODRT_TRY(pods.begin_run(pod.uuid));
  std::string run_path = pods.pods_dir() + "/run/" + pod.uuid;
  PODRT_TRY(pods::exec_stage1_run(run_path, pod.uuid, std::move(lock), stage1));
  return kExitFailure;  // not reached: exec_stage1_run returns only errors
}

Result<int> prepare(CommandContext& context, const RunOptions& options) {
  std::string uuid = PODRT_TRY(prepare_from(context, options));
  std::printf("%s\n", uuid.c_str());
  return 0;
}

host::PodNeeds needs_of(const std::vector<appc::Volume>& volumes) {
  return {.host_volumes = std::any_of(volumes.begin(), volumes.end(),
                                      [](const appc::Volume& volume) { return volume.kind == "host"; })};
}

/// The pod `podrt run` is about to prepare: its volumes are the --volume flags'.
Result<host::PodNeeds> needs_of_flags(const RunOptions& options) {
  std::vector<appc::Volume> volumes;
  for (const std::string& text : options.pod.volumes) volumes.push_back(PODRT_TRY(parse_volume(text)));
  return needs_of(volumes);
}

/// A prepared pod: its manifest's volumes.
Result<host::PodNeeds> needs_of_prepared(const GlobalOptions& globals, const std::string& uuid) {
  pods::PodStore pods = PODRT_TRY(pods::PodStore::open(globals.dir));
  pods::PodInfo pod = PODRT_TRY(pods.find(uuid));
  std::string text = PODRT_TRY(sys::read_file(pod.path + "/" + std::string(pods::kPodManifestFile)));
  return needs_of(PODRT_TRY(appc::PodManifest::parse(text)).volumes);
}

Result<int> run(CommandContext& context, const RunOptions& options) {
  pods::Stage1RunOptions stage1 = options.stage1;
  host::PodNeeds needs = PODRT_TRY(needs_of_flags(options));
  PODRT_TRY(check_runtime_flags(context.globals, stage1, needs));
  if (stage1.interactive && options.images.size() != 1)
    return Error::invalid("--interactive needs a pod with exactly one app");
  std::string uuid = PODRT_TRY(prepare_from(context, options));
  return start(context.globals, uuid, stage1);
}

Result<int> run_prepared(CommandContext& context, const RunOptions& options) {
  pods::Stage1RunOptions stage1 = options.stage1;
  host::PodNeeds needs;
  if (stage1.stage1 == "kvm") needs = PODRT_TRY(needs_of_prepared(context.globals, options.uuid));
  PODRT_TRY(check_runtime_flags(context.globals, stage1, needs));
  return start(context.globals, options.uuid, stage1);
}

}  // namespace

void register_run_commands(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<RunOptions>();

  CLI::App* prepare_command = add_command(
      app, context, options, "prepare", "prepare a pod from images; print its UUID", prepare);
  prepare_command->add_option("image", options->images, "an image source as for fetch, an image id or name[:version]")
      ->required();
  add_app_flags(prepare_command, options->app);
  add_pod_flags(prepare_command, options->pod);
  prepare_command->add_flag("--quiet", options->quiet, "print only the UUID (the default)");
  prepare_command->add_option("--max-image-size", options->max_image_size,
                              "refuse images whose uncompressed size exceeds this");

  CLI::App* run_command = add_command(app, context, options, "run",
                                      "run a pod from images and wait for it", run);
  run_command->add_option("image", options->images, "an image source as for fetch, an image id or name[:version]")
      ->required();
  add_app_flags(run_command, options->app);
  add_pod_flags(run_command, options->pod);
  add_runtime_flags(run_command, options->stage1);
  run_command->add_option("--max-image-size", options->max_image_size,
                          "refuse images whose uncompressed size exceeds this");

  CLI::App* run_prepared_command = add_command(app, context, options, "run-prepared",
                                               "run a prepared pod and wait for it", run_prepared);
  run_prepared_command->add_option("uuid", options->uuid, "pod UUID (or a unique prefix)")
      ->required();
  add_runtime_flags(run_prepared_command, options->stage1);
}

}  // namespace podrt::cli
