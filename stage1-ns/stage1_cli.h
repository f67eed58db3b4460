// The command line every stage1 binary shares (docs/stage1-contract.md): `run` with the pod's
// flags, `enter`, `stop` and `gc`, parsed with CLI11; failures are one line and exit 254.
// Each stage1 adds its own run flags and gives its entrypoints.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1 {

struct Stage1Entrypoints {
  std::function<Result<int>()> run;  ///< called after parsing, with the options filled in
  std::function<Result<int>(const std::string& uuid, const std::string& app,
                            const std::vector<std::string>& command)> enter;
  std::function<Result<int>(const std::string& uuid, bool force)> stop;
  std::function<Result<int>(const std::string& uuid, const std::string& data_dir)> gc;
};

/// Adds the `run` subcommand with the flags stage0 passes to every stage1.
CLI::App* add_run_command(CLI::App& app, RunOptions& options);

/// Adds enter, stop and gc, parses argv, runs the chosen entrypoint and returns the process's
/// exit code.
int run_stage1_command_line(CLI::App& app, int argc, char** argv, RunOptions& options,
                            const Stage1Entrypoints& entrypoints);

}  // namespace podrt::stage1
