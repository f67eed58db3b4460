// What every podrt command shares: the global flags and the action the parser chose.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <type_traits>
#include <string>
#include <vector>

#include "common/result.h"

namespace podrt::cli {

/// rkt's exit code for podrt's own failures (rkt#3261): distinct from any app's code.
inline constexpr int kExitFailure = 254;

struct GlobalOptions {
  std::string dir = "/var/lib/podrt";
  bool debug = false;
  std::string insecure_options;
};

/// Filled while parsing: each command's callback stores the action to run afterwards, so that
/// errors from the action and from parsing both end up as one line and exit code 254.
struct CommandContext {
  GlobalOptions globals;
  /// The words after a lone `--`: the app's arguments.
  std::vector<std::string> app_arguments;
  std::function<Result<int>()> action;
};

/// Adds subcommand `name` to `parent`; when the user picks it, its action is `run(...)` with
/// the parsed `options` and either the whole context or just the global flags.
template <class Options, class Run>
CLI::App* add_command(CLI::App& parent, CommandContext& context, std::shared_ptr<Options> options,
                      const char* name, const char* help, Run run) {
  CLI::App* command = parent.add_subcommand(name, help);
  command->callback([&context, options, run] {
    context.action = [&context, options, run]() -> Result<int> {
      if constexpr (std::is_invocable_v<Run, CommandContext&, const Options&>)
        return run(context, *options);
      else
        return run(context.globals, *options);
    };
  });
  return command;
}

// One registration function per command file (stage0/cli/cmd_*.cc).
void register_version_command(CLI::App& app, CommandContext& context);
void register_info_command(CLI::App& app, CommandContext& context);
void register_fetch_command(CLI::App& app, CommandContext& context);
void register_image_commands(CLI::App& app, CommandContext& context);
void register_trust_command(CLI::App& app, CommandContext& context);
void register_pod_commands(CLI::App& app, CommandContext& context);
void register_run_commands(CLI::App& app, CommandContext& context);
void register_enter_commands(CLI::App& app, CommandContext& context);

}  // namespace podrt::cli
