// podrt-stage1-ns: the namespaces stage1 (docs/stage1-contract.md). stage0 runs it in the pod
// directory as `podrt-stage1-ns run|enter|stop|gc [flags] UUID`.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "common/log.h"
#include "common/supervisor/supervisor.h"
#include "stage1-ns/entrypoints.h"

int main(int argc, char** argv) {
  using namespace podrt;
  CLI::App app{"podrt's namespaces stage1 (run by podrt, not by hand)", "podrt-stage1-ns"};
  app.require_subcommand(1);
  stage1::RunOptions run;
  std::string app_name;
  std::vector<std::string> command;
  bool force = false;
  std::function<Result<int>()> action;

  CLI::App* run_command = app.add_subcommand("run", "start the pod and wait for it");
  run_command->add_option("--dir", run.data_dir);
  run_command->add_flag("--debug", run.debug);
  run_command->add_option("--net", run.networks);
  run_command->add_option("--dns", run.dns);
  run_command->add_option("--dns-search", run.dns_search);
  run_command->add_option("--dns-opt", run.dns_options);
  run_command->add_option("--hosts-entry", run.hosts_entries);
  run_command->add_option("--hostname", run.hostname);
  run_command->add_flag("--interactive", run.interactive);
  run_command->add_flag("--private-users", run.private_users);
  run_command->add_flag("--disable-seccomp", run.disable_seccomp);
  run_command->add_flag("--disable-capabilities-restriction", run.disable_capabilities);
  run_command->add_flag("--disable-paths", run.disable_paths);
  run_command->add_option("uuid", run.uuid)->required();
  run_command->callback([&] { action = [&] { return stage1::run_pod(run); }; });

  CLI::App* enter_command = app.add_subcommand("enter", "run a command in an app of the pod");
  enter_command->add_option("--app", app_name);
  enter_command->add_option("uuid", run.uuid)->required();
  enter_command->add_option("command", command);
  enter_command->callback([&] { action = [&] { return stage1::enter_pod(run.uuid, app_name, command); }; });

  CLI::App* stop_command = app.add_subcommand("stop", "stop the pod");
  stop_command->add_flag("--force", force);
  stop_command->add_option("uuid", run.uuid)->required();
  stop_command->callback([&] { action = [&] { return stage1::stop_pod(run.uuid, force); }; });

  CLI::App* gc_command = app.add_subcommand("gc", "remove what an exited pod left behind");
  gc_command->add_option("--dir", run.data_dir);
  gc_command->add_option("uuid", run.uuid)->required();
  gc_command->callback([&] { action = [&] { return stage1::gc_pod(run.uuid, run.data_dir); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    log::error(std::string("stage1: ") + error.what());
    return supervisor::kExitPodrtFailure;
  }
  log::set_debug(run.debug);
  Result<int> result = action();
  if (!result) {
    log::error(result.error().message());
    return supervisor::kExitPodrtFailure;
  }
  return *result;
}
