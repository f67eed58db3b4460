#include "stage0/cli/command.h"
namespace podrt::cli {
void register_info_command(CLI::App&, CommandContext&) {}
}
