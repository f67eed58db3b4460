// podrt fetch IMAGE...: import images into the store and print their ids.
#include <cstdio>

#include "stage0/cli/arguments.h"
#include "stage0/cli/command.h"
#include "stage0/image/image_fetcher.h"

namespace podrt::cli {
namespace {

struct FetchOptions {
  std::vector<std::string> images;
  bool full = false;
  std::string max_image_size = "16G";
};

}  // namespace

void register_fetch_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<FetchOptions>();
  CLI::App* command = app.add_subcommand("fetch", "fetch images into the store, print their ids");
  command->add_option("image", options->images,
                      "PATH or file://PATH (an ACI), docker-archive:PATH, oci-layout:PATH[:TAG] "
                      "or docker://HOST[:PORT]/NAME[:TAG|@DIGEST]")
      ->required();
  command->add_flag("--full", options->full, "print full image ids (they always are)");
  command->add_option("--max-image-size", options->max_image_size,
                      "refuse images whose uncompressed size exceeds this")
      ->capture_default_str();
  command->callback([&context, options] {
    context.action = [&context, options]() -> Result<int> {
      image::FetchPolicy policy = PODRT_TRY(
          make_fetch_policy(context.globals.insecure_options, options->max_image_size));
      store::ImageStore store = PODRT_TRY(store::ImageStore::open(context.globals.dir));
      for (const std::string& reference : options->images) {
        store::ImageRecord record = PODRT_TRY(image::fetch_image(store, reference, policy));
        std::printf("%s\n", record.id.c_str());
      }
      return 0;
    };
  });
}

}  // namespace podrt::cli
