// podrt-stage1-kvm: the VM stage1 (docs/stage1-contract.md, docs/guest-protocol.md). stage0
// runs it in the pod directory as `podrt-stage1-kvm run|enter|stop|gc [flags] UUID`.
#include <CLI/CLI.hpp>

#include "common/log.h"
#include "common/supervisor/supervisor.h"
#include "stage1-kvm/entrypoints.h"

int main(int argc, char** argv) {
  using namespace podrt;
  CLI::App app{"podrt's VM stage1 (run by podrt, not by hand)", "podrt-stage1-kvm"};
  app.require_subcommand(1);
  stage1_kvm::KvmRunOptions run;
  stage1::RunOptions& pod = run.pod;
  std::string acceleration = "tcg";
  std::string app_name;
  std::vector<std::string> command;
  bool force = false;
  std::function<Result<int>()> action;

  CLI::App* run_command = app.add_subcommand("run", "boot the pod's VM and wait for it");
  run_command->add_option("--dir", pod.data_dir);
  run_command->add_flag("--debug", pod.debug);
  run_command->add_option("--net", pod.networks);
  run_command->add_option("--dns", pod.dns);
  run_command->add_option("--dns-search", pod.dns_search);
  run_command->add_option("--dns-opt", pod.dns_options);
  run_command->add_option("--hosts-entry", pod.hosts_entries);
  run_command->add_option("--hostname", pod.hostname);
  run_command->add_flag("--interactive", pod.interactive);
  run_command->add_flag("--private-users", pod.private_users);
  run_command->add_flag("--disable-seccomp", pod.disable_seccomp);
  run_command->add_flag("--disable-capabilities-restriction", pod.disable_capabilities);
  run_command->add_flag("--disable-paths", pod.disable_paths);
  run_command->add_option("--hypervisor", run.hypervisor);
  run_command->add_option("--accel", acceleration)->check(CLI::IsMember({"kvm", "tcg"}));
  run_command->add_option("uuid", pod.uuid)->required();
  run_command->callback([&] {
    run.acceleration = acceleration == "kvm" ? stage1_kvm::Acceleration::kKvm : stage1_kvm::Acceleration::kTcg;
    action = [&] { return stage1_kvm::run_pod(run); };
  });

  CLI::App* enter_command = app.add_subcommand("enter", "run a command in an app of the pod");
  enter_command->add_option("--app", app_name);
  enter_command->add_option("uuid", pod.uuid)->required();
  enter_command->add_option("command", command);
  enter_command->callback([&] { action = [&] { return stage1_kvm::enter_pod(pod.uuid, app_name, command); }; });

  CLI::App* stop_command = app.add_subcommand("stop", "stop the pod");
  stop_command->add_flag("--force", force);
  stop_command->add_option("uuid", pod.uuid)->required();
  stop_command->callback([&] { action = [&] { return stage1_kvm::stop_pod(pod.uuid, force); }; });

  CLI::App* gc_command = app.add_subcommand("gc", "remove what an exited pod left behind");
  gc_command->add_option("--dir", pod.data_dir);
  gc_command->add_option("uuid", pod.uuid)->required();
  gc_command->callback([&] { action = [&] { return stage1_kvm::gc_pod(pod.uuid, pod.data_dir); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    log::error(std::string("stage1: ") + error.what());
    return supervisor::kExitPodrtFailure;
  }
  log::set_debug(pod.debug);
  Result<int> result = action();
  if (!result) {
    log::error(result.error().message());
    return supervisor::kExitPodrtFailure;
  }
  return *result;
}
