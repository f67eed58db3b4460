// podrt image list | rm | cat-manifest | extract | render | export | gc.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/sys/file.h"
#include "stage0/cli/arguments.h"
#include "stage0/cli/command.h"
#include "stage0/cli/output.h"
#include "stage0/image/tree_merge.h"
#include "stage0/pods/pod_store.h"
#include "stage0/store/image_store.h"

namespace podrt::cli {
namespace {

struct ImageOptions {
  std::vector<std::string> images;
  std::string image;
  std::string target;
  std::string format = "text";
  std::string grace_period = "24h";
  bool full = false;
  bool no_legend = false;
  bool pretty_print = true;
  bool rootfs_only = false;
  bool overwrite = false;
};

/// Refuses to write into a non-empty directory or over a file unless --overwrite was given.
Result<void> prepare_target(const std::string& target, bool overwrite, bool is_directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool exists = fs::exists(fs::symlink_status(target, ec));
  if (exists && !overwrite) {
    bool empty_dir = is_directory && fs::is_directory(target, ec) && fs::is_empty(target, ec);
    if (!empty_dir) return Error::invalid(target + " already exists (use --overwrite)");
  }
  if (exists && overwrite) PODRT_TRY(sys::remove_tree(target));
  if (is_directory) PODRT_TRY(sys::make_directories(target, 0755));
  return ok();
}

Result<int> list_images(const GlobalOptions& globals, const ImageOptions& options) {
  store::ImageStore store = PODRT_TRY(store::ImageStore::open(globals.dir));
  std::vector<store::ImageRecord> images = PODRT_TRY(store.index().list());
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const store::ImageRecord& image : images) {
      nlohmann::json labels = nlohmann::json::parse(image.labels_json, nullptr, false);
      out.push_back({{"id", image.id}, {"name", image.name},
                     {"labels", labels.is_discarded() ? nlohmann::json::object() : labels},
                     {"size", image.blob_size + image.render_size},
                     {"import_time", image.import_time}, {"last_used", image.last_used}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "SIZE", "IMPORT TIME", "LAST USED"}};
  for (const store::ImageRecord& image : images) {
    nlohmann::json labels = nlohmann::json::parse(image.labels_json, nullptr, false);
    std::string name = image.name;
    if (labels.is_object() && labels.contains("version") && labels["version"].is_string())
      name += ":" + labels["version"].get<std::string>();
    rows.push_back({options.full ? image.id : short_image_id(image.id), name,
                    format_size(image.blob_size + image.render_size),
                    format_time(image.import_time), format_time(image.last_used)});
  }
  print_table(rows, !options.no_legend);
  return 0;
}

Result<std::set<std::string>> images_used_by_pods(const GlobalOptions& globals) {
  pods::PodStore pods = PODRT_TRY(pods::PodStore::open(globals.dir));
  return pods.images_in_use();
}

Result<int> remove_images(const GlobalOptions& globals, const ImageOptions& options) {
  store::ImageStore store = PODRT_TRY(store::ImageStore::open(globals.dir));
  std::set<std::string> in_use = PODRT_TRY(images_used_by_pods(globals));
  for (const std::string& reference : options.images) {
    store::ImageRecord image = PODRT_TRY(store.resolve(reference));
    PODRT_TRY_CONTEXT(store.remove(image.id, in_use), "image rm " + reference);
    std::printf("successfully removed image %s\n", image.id.c_str());
  }
  return 0;
}

Result<int> cat_image_manifest(const GlobalOptions& globals, const ImageOptions& options) {
  store::ImageStore store = PODRT_TRY(store::ImageStore::open(globals.dir));
  store::ImageRecord image = PODRT_TRY(store.resolve(options.image));
  std::string text = PODRT_TRY(store.manifest_text(image.id));
  nlohmann::json manifest = nlohmann::json::parse(text, nullptr, false);
  std::printf("%s\n", options.pretty_print && !manifest.is_discarded()
                          ? manifest.dump(4).c_str() : text.c_str());
  return 0;
}

Result<int> extract_image(const GlobalOptions& globals, const ImageOptions& options, bool render) {
  store::ImageStore store = PODRT_TRY(store::ImageStore::open(globals.dir));
  store::ImageRecord image = PODRT_TRY(store.resolve(options.image));
  PODRT_TRY(prepare_target(options.target, options.overwrite, /*is_directory=*/true));
  std::string rootfs = options.rootfs_only ? options.target : options.target + "/rootfs";
  if (!options.rootfs_only) {
    std::string manifest = PODRT_TRY(store.manifest_text(image.id));
    PODRT_TRY(sys::write_file_atomic(options.target + "/manifest", manifest, 0644));
    PODRT_TRY(sys::make_directories(rootfs, 0755));
  }
  if (render || image.kind == store::ImageKind::Oci) {
    // The image with its dependencies (or an OCI image's layers), as a pod sees it.
    std::string source = PODRT_TRY(store.rootfs(image.id, image::UnpackLimits{}));
    PODRT_TRY(image::merge_tree(source, rootfs, image::FileTransfer::Copy));
  } else {
    // The image's own layer only, straight from its blob.
    PODRT_TRY(image::unpack_aci(store.layout().blob_path(image.id), {"", rootfs},
                                image::UnpackLimits{}));
  }
  return 0;
}

Result<int> export_image(const GlobalOptions& globals, const ImageOptions& options) {
  store::ImageStore store = PODRT_TRY(store::ImageStore::open(globals.dir));
  store::ImageRecord image = PODRT_TRY(store.resolve(options.image));
  if (image.kind == store::ImageKind::Oci) {
    // Its blob is only the converted manifest; its content is the layers in cas/layer.
    return Error::invalid("image " + image.id.substr(0, 19) + " (" + image.name +
                          ") came from an OCI/Docker source and has no ACI to export: `podrt "
                          "image render` or `extract` give its root filesystem");
  }
  PODRT_TRY(prepare_target(options.target, options.overwrite, /*is_directory=*/false));
  std::string temporary = options.target + ".podrt-tmp";
  {
    UniqueFd in = PODRT_TRY(sys::open_file(store.layout().blob_path(image.id), O_RDONLY));
    UniqueFd out = PODRT_TRY(sys::open_file(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    for (;;) {
      ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
      if (n < 0) {
        Error error = Error::from_errno("write " + temporary);
        ::unlink(temporary.c_str());
        return error;
      }
      if (n == 0) break;
    }
  }
  if (::rename(temporary.c_str(), options.target.c_str()) != 0)
    return Error::from_errno("rename " + temporary + " to " + options.target);
  return 0;
}

Result<int> gc_images(const GlobalOptions& globals, const ImageOptions& options) {
  int64_t grace = PODRT_TRY(parse_duration(options.grace_period));
  store::ImageStore store = PODRT_TRY(store::ImageStore::open(globals.dir));
  std::set<std::string> in_use = PODRT_TRY(images_used_by_pods(globals));
  store::ImageGcReport report = PODRT_TRY(store.gc(grace, in_use));
  for (const std::string& id : report.removed_images)
    std::printf("successfully removed image %s\n", id.c_str());
  if (report.removed_leftovers > 0)
    std::printf("removed %llu leftovers of interrupted work\n",
                static_cast<unsigned long long>(report.removed_leftovers));
  return 0;
}

}  // namespace

void register_image_commands(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ImageOptions>();
  CLI::App* image = app.add_subcommand("image", "operate on images in the store");
  image->require_subcommand(1);

  CLI::App* list = add_command(*image, context, options, "list", "list images", list_images);
  list->add_flag("--full", options->full, "print full image ids");
  list->add_flag("--no-legend", options->no_legend, "omit the table header");
  list->add_option("--format", options->format, "text or json")
      ->check(CLI::IsMember({"text", "json", "json-pretty"}));

  CLI::App* rm = add_command(*image, context, options, "rm", "remove images", remove_images);
  rm->add_option("image", options->images, "image id or name")->required();

  CLI::App* cat = add_command(*image, context, options, "cat-manifest",
                                       "print an image's manifest", cat_image_manifest);
  cat->add_option("image", options->image, "image id or name")->required();
  cat->add_option("--pretty-print", options->pretty_print, "indent the JSON");

  auto extract_run = [](const GlobalOptions& g, const ImageOptions& o) { return extract_image(g, o, false); };
  auto render_run = [](const GlobalOptions& g, const ImageOptions& o) { return extract_image(g, o, true); };
  for (auto [name, help, run] :
       {std::tuple{"extract", "unpack an image's own layer into DIR", +extract_run},
        std::tuple{"render", "render an image with its dependencies into DIR", +render_run}}) {
    CLI::App* command = add_command(*image, context, options, name, help, run);
    command->add_option("image", options->image, "image id or name")->required();
    command->add_option("dir", options->target, "target directory")->required();
    command->add_flag("--rootfs-only", options->rootfs_only, "only the root filesystem");
    command->add_flag("--overwrite", options->overwrite, "replace DIR if it exists");
  }

  CLI::App* exported = add_command(*image, context, options, "export",
                                            "write an image as an ACI file", export_image);
  exported->add_option("image", options->image, "image id or name")->required();
  exported->add_option("file", options->target, "output .aci file")->required();
  exported->add_flag("--overwrite", options->overwrite, "replace the file if it exists");

  CLI::App* gc = add_command(*image, context, options, "gc",
                                      "remove images not used for the grace period", gc_images);
  gc->add_option("--grace-period", options->grace_period, "e.g. 24h, 30m, 0")->capture_default_str();
}

}  // namespace podrt::cli
