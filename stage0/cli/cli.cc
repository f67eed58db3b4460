#include "stage0/cli/cli.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/log.h"
#include "stage0/cli/command.h"

namespace podrt::cli {

int run(int argc, char** argv) {
  CLI::App app{"podrt: a daemonless pod runtime (namespaces or a tiny VM per pod)", "podrt"};
  app.require_subcommand(0, 1);
  app.fallthrough();
  CommandContext context;
  app.add_option("--dir", context.globals.dir, "podrt data directory")
      ->capture_default_str();
  app.add_flag("--debug", context.globals.debug, "print debug output to stderr");
  app.add_option("--insecure-options", context.globals.insecure_options,
                 "comma-separated checks to skip: none, image, http, all-fetch, all");

  register_version_command(app, context);
  register_info_command(app, context);
  register_fetch_command(app, context);
  register_image_commands(app, context);
  register_trust_command(app, context);
  register_run_commands(app, context);
  register_pod_commands(app, context);
  register_enter_commands(app, context);

  // Everything after a lone `--` belongs to the app, not to podrt (rkt's convention).
  std::vector<std::string> words;
  for (int i = argc - 1; i > 0; --i) words.emplace_back(argv[i]);  // CLI11 wants them reversed
  for (size_t i = words.size(); i-- > 0;) {
    if (words[i] != "--") continue;
    context.app_arguments.assign(words.begin(), words.begin() + static_cast<long>(i));
    std::reverse(context.app_arguments.begin(), context.app_arguments.end());
    words.erase(words.begin(), words.begin() + static_cast<long>(i) + 1);
    break;
  }

  try {
    app.parse(words);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& parse_error) {
    // One line, as for every other failure; --help shows the usage.
    log::error(std::string(parse_error.what()) + " (see podrt --help)");
    return kExitFailure;
  }

  log::set_debug(context.globals.debug);
  // Stage1 and the pod's processes run elsewhere: every path they get from the store must
  // not depend on this process's working directory.
  std::error_code ec;
  if (std::string absolute = std::filesystem::absolute(context.globals.dir, ec); !ec)
    context.globals.dir = absolute;
  if (!context.action) {
    log::error("no command given (see podrt --help)");
    return kExitFailure;
  }
  Result<int> result = context.action();
  if (!result) {
    log::error(result.error().message());
    return kExitFailure;
  }
  return *result;
}

}  // namespace podrt::cli
