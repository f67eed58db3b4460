// podrt version: the versions a bug report needs.
#include <archive.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>

#include <cstdio>

#include "stage0/cli/command.h"

namespace podrt::cli {

void register_version_command(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("version", "print podrt's version and its libraries'");
  command->callback([&context] {
    context.action = []() -> Result<int> {
      std::printf("podrt Version: %s\n", PODRT_VERSION);
      std::printf("appc Version: 0.8.11\n");
      std::printf("libarchive: %s\n", archive_version_string());
      std::printf("OpenSSL: %s\n", OPENSSL_VERSION_TEXT);
      std::printf("SQLite: %s\n", sqlite3_libversion());
      return 0;
    };
  });
}

}  // namespace podrt::cli
