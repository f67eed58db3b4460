#include "stage0/cli/command.h"
namespace podrt::cli {
void register_fetch_command(CLI::App&, CommandContext&) {}
void register_image_commands(CLI::App&, CommandContext&) {}
void register_pod_commands(CLI::App&, CommandContext&) {}
}
