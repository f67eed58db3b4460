// What every podrt command shares: the global flags and the action the parser chose.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
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

// One registration function per command file (stage0/cli/cmd_*.cc).
void register_version_command(CLI::App& app, CommandContext& context);
void register_info_command(CLI::App& app, CommandContext& context);
void register_fetch_command(CLI::App& app, CommandContext& context);
void register_image_commands(CLI::App& app, CommandContext& context);
void register_pod_commands(CLI::App& app, CommandContext& context);

}  // namespace podrt::cli
