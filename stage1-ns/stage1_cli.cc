#include "stage1-ns/stage1_cli.h"

#include "common/log.h"
#include "common/supervisor/supervisor.h"

namespace podrt::stage1 {

CLI::App* add_run_command(CLI::App& app, RunOptions& options) {
  CLI::App* run = app.add_subcommand("run", "start the pod and wait for it");
  run->add_option("--dir", options.data_dir);
  run->add_flag("--debug", options.debug);
  run->add_option("--net", options.networks);
  run->add_option("--dns", options.dns);
  run->add_option("--dns-search", options.dns_search);
  run->add_option("--dns-opt", options.dns_options);
  run->add_option("--hosts-entry", options.hosts_entries);
  run->add_option("--hostname", options.hostname);
  run->add_flag("--interactive", options.interactive);
  run->add_flag("--private-users", options.private_users);
  run->add_flag("--disable-seccomp", options.disable_seccomp);
  run->add_flag("--disable-capabilities-restriction", options.disable_capabilities);
  run->add_flag("--disable-paths", options.disable_paths);
  run->add_option("uuid", options.uuid)->required();
  return run;
}

int run_stage1_command_line(CLI::App& app, int argc, char** argv, RunOptions& options,
                            const Stage1Entrypoints& entrypoints) {
  app.require_subcommand(1);
  std::string app_name;
  std::vector<std::string> command;
  bool force = false;
  std::function<Result<int>()> action;

  app.get_subcommand("run")->callback([&] { action = entrypoints.run; });  // add_run_command's

  CLI::App* enter = app.add_subcommand("enter", "run a command in an app of the pod");
  enter->add_option("--app", app_name);
  enter->add_option("uuid", options.uuid)->required();
  enter->add_option("command", command);
  enter->callback([&] { action = [&] { return entrypoints.enter(options.uuid, app_name, command); }; });

  CLI::App* stop = app.add_subcommand("stop", "stop the pod");
  stop->add_flag("--force", force);
  stop->add_option("uuid", options.uuid)->required();
  stop->callback([&] { action = [&] { return entrypoints.stop(options.uuid, force); }; });

  CLI::App* gc = app.add_subcommand("gc", "remove what an exited pod left behind");
  gc->add_option("--dir", options.data_dir);
  gc->add_option("uuid", options.uuid)->required();
  gc->callback([&] { action = [&] { return entrypoints.gc(options.uuid, options.data_dir); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    log::error(std::string("stage1: ") + error.what());
    return supervisor::kExitPodrtFailure;
  }
  log::set_debug(options.debug);
  Result<int> result = action();
  if (!result) {
    log::error(result.error().message());
    return supervisor::kExitPodrtFailure;
  }
  return *result;
}

}  // namespace podrt::stage1
