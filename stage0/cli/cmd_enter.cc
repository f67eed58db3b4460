// Commands on running pods, through stage1's entrypoints: podrt enter | stop.
#include <cstdio>

#include "stage0/cli/arguments.h"
#include "stage0/cli/command.h"
#include "stage0/pods/pod_store.h"
#include "stage0/pods/pod_waiter.h"
#include "stage0/pods/stage1_launcher.h"

namespace podrt::cli {
namespace {

struct EnterOptions {
  std::string uuid;
  std::vector<std::string> uuids;
  std::string app;
  std::vector<std::string> command;
  bool force = false;
  std::string timeout = "30s";
};

Result<pods::PodInfo> running_pod(const pods::PodStore& store, const std::string& uuid) {
  pods::PodInfo pod = PODRT_TRY(store.find(uuid));
  if (pod.state != pods::PodState::Running)
    return Error::invalid("pod " + pod.uuid + " is " + std::string(pods::state_name(pod.state)) +
                          ", not running");
  return pod;
}

Result<int> enter(CommandContext& context, const EnterOptions& options) {
  pods::PodStore store = PODRT_TRY(pods::PodStore::open(context.globals.dir));
  pods::PodInfo pod = PODRT_TRY(running_pod(store, options.uuid));
  std::vector<std::string> arguments;
  if (!options.app.empty()) arguments.push_back("--app=" + options.app);
  arguments.push_back(pod.uuid);
  arguments.push_back("--");
  arguments.insert(arguments.end(), options.command.begin(), options.command.end());
  arguments.insert(arguments.end(), context.app_arguments.begin(), context.app_arguments.end());
  return pods::run_stage1_entrypoint(pod.path, "enter", arguments, /*replace=*/true);
}

/// SIGTERM (or SIGKILL with --force) through stage1, then wait for the pod to exit; a pod
/// still running after --timeout is killed.
Result<int> stop(const GlobalOptions& globals, const EnterOptions& options) {
  int64_t timeout = PODRT_TRY(parse_duration(options.timeout));
  pods::PodStore store = PODRT_TRY(pods::PodStore::open(globals.dir));
  std::vector<pods::PodInfo> found;
  for (const std::string& uuid : options.uuids) found.push_back(PODRT_TRY(running_pod(store, uuid)));
  for (const pods::PodInfo& pod : found) {
    std::vector<std::string> arguments;
    if (options.force) arguments.push_back("--force");
    arguments.push_back(pod.uuid);
    int code = PODRT_TRY(pods::run_stage1_entrypoint(pod.path, "stop", arguments, false));
    if (code != 0) return Error::invalid("stop pod " + pod.uuid + ": stage1 stop failed");
    if (!PODRT_TRY(pods::wait_for_exit(pod.path, timeout))) {
      PODRT_TRY(pods::run_stage1_entrypoint(pod.path, "stop", {"--force", pod.uuid}, false));
      PODRT_TRY(pods::wait_for_exit(pod.path, -1));
    }
    std::printf("%s\n", pod.uuid.c_str());
  }
  return 0;
}

}  // namespace

void register_enter_commands(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<EnterOptions>();

  CLI::App* enter_command = add_command(app, context, options, "enter",
                                        "run a command in a running pod's app", enter);
  enter_command->add_option("--app", options->app, "the app to enter (needed if more than one)");
  enter_command->add_option("uuid", options->uuid, "pod UUID (or a unique prefix)")->required();
  enter_command->add_option("command", options->command, "command and arguments (default /bin/sh)");

  CLI::App* stop_command =
      add_command(app, context, options, "stop", "stop running pods and wait for them", stop);
  stop_command->add_flag("--force", options->force, "kill the pod at once (SIGKILL)");
  stop_command->add_option("--timeout", options->timeout,
                           "kill a pod that has not exited this long after SIGTERM")
      ->capture_default_str();
  stop_command->add_option("uuid", options->uuids, "pod UUIDs")->required();
}

}  // namespace podrt::cli
