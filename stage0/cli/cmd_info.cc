// podrt info: what this host offers podrt (KVM kind, cgroups, overlayfs, QEMU, CNI plugins).
#include <cstdio>
#include <memory>
#include <string>

#include "stage0/cli/command.h"
#include "stage0/host/host_report.h"

namespace podrt::cli {

void register_info_command(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("info", "show what this host supports");
  auto format = std::make_shared<std::string>("text");
  command->add_option("--format", *format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->callback([&context, format] {
    context.action = [&context, format]() -> Result<int> {
      host::HostReport report =
          host::probe_host(host::HostPaths::from_environment(), context.globals.dir);
      std::string output = *format == "json" ? host::format_json(report)
                                             : host::format_text(report);
      std::fputs(output.c_str(), stdout);
      return 0;
    };
  });
}

}  // namespace podrt::cli
