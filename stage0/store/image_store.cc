#include "stage0/store/image_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>

#include "common/log.h"
#include "common/sha512.h"
#include "common/sys/file.h"
#include "stage0/image/beneath.h"
#include "stage0/image/progress_bar.h"
#include "stage0/image/tree_merge.h"
#include "stage0/oci/appc_conversion.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/layer_applier.h"

namespace podrt::store {
namespace {

int64_t now_seconds() { return static_cast<int64_t>(::time(nullptr)); }

std::string labels_to_json(const appc::ImageManifest& manifest) {
  nlohmann::json labels = nlohmann::json::object();
  for (const appc::Label& label : manifest.labels) labels[label.name] = label.value;
  return labels.dump();
}

std::string label_value(const ImageRecord& record, const std::string& name) {
  nlohmann::json labels = nlohmann::json::parse(record.labels_json, nullptr, false);
  if (!labels.is_object()) return "";
  auto it = labels.find(name);
  if (it == labels.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

Result<void> rename_into_place(const std::string& from, const std::string& to) {
  // A leftover from an interrupted import of the same image may sit at `to`.
  PODRT_TRY(sys::remove_tree(to));
  if (::rename(from.c_str(), to.c_str()) != 0)
    return Error::from_errno("rename " + from + " to " + to);
  return ok();
}

/// Removes every path below `rootfs` that `whitelist` does not name (ace.md step 3); the
/// directories leading to a whitelisted path stay.
Result<void> apply_path_whitelist(const std::string& rootfs,
                                  const std::vector<std::string>& whitelist) {
  namespace fs = std::filesystem;
  std::set<std::string> keep(whitelist.begin(), whitelist.end());
  std::set<std::string> keep_parents;
  for (const std::string& path : whitelist)
    for (fs::path parent = fs::path(path).parent_path(); parent != "/" && !parent.empty();
         parent = parent.parent_path())
      keep_parents.insert(parent);
  std::vector<std::string> doomed;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(rootfs, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string inside = "/" + fs::relative(it->path(), rootfs).string();
    if (keep.count(inside)) {
      it.disable_recursion_pending();
      continue;
    }
    if (keep_parents.count(inside)) continue;
    doomed.push_back(it->path());
    it.disable_recursion_pending();
  }
  if (ec) return Error::with_code(ec.value(), "walk " + rootfs);
  for (const std::string& path : doomed) PODRT_TRY(sys::remove_tree(path));
  return ok();
}

}  // namespace

Result<ImageStore> ImageStore::open(const std::string& data_dir) {
  StoreLayout layout(data_dir);
  for (const std::string& dir :
       {layout.blob_dir(), layout.tree_dir(), layout.layer_dir(), layout.tmp_dir()})
    PODRT_TRY_CONTEXT(sys::make_directories(dir, 0700), "open image store");
  ImageIndex index = PODRT_TRY(ImageIndex::open(layout.index_path()));
  return ImageStore(std::move(layout), std::move(index));
}

Result<sys::FileLock> ImageStore::lock(sys::FileLock::Mode mode) const {
  sys::FileLock lock = PODRT_TRY(sys::FileLock::open(layout_.lock_path(), /*create=*/true));
  PODRT_TRY(lock.lock(mode, sys::FileLock::Wait::Block));
  return lock;
}

Result<std::vector<std::string>> ImageStore::resolve_dependencies(
    const appc::ImageManifest& manifest) const {
  std::vector<std::string> ids;
  for (const appc::Dependency& dependency : manifest.dependencies) {
    std::string reference = dependency.image_id.value_or(dependency.image_name);
    if (!dependency.image_id) {
      for (const appc::Label& label : dependency.labels)
        if (label.name == "version") reference += ":" + label.value;
    }
    auto found = resolve(reference);
    if (!found) {
      return Error::invalid("dependency " + dependency.image_name + " (" + reference +
                            ") is not in the store: fetch it first");
    }
    if (dependency.image_id && found->name != dependency.image_name) {
      return Error::invalid("dependency " + dependency.image_name + ": image " + found->id +
                            " is named " + found->name);
    }
    ids.push_back(found->id);
  }
  return ids;
}

Result<void> ImageStore::render(const appc::ImageManifest& manifest, const std::string& layer_dir,
                                const std::string& tree_dir, const image::UnpackLimits& limits) {
  std::string rootfs = tree_dir + "/rootfs";
  std::vector<std::string> dependencies = PODRT_TRY(resolve_dependencies(manifest));
  if (dependencies.empty() && manifest.path_whitelist.empty()) {
    // The common case: the image's own layer is its render, no copy needed.
    if (::rename(layer_dir.c_str(), rootfs.c_str()) != 0)
      return Error::from_errno("rename " + layer_dir + " to " + rootfs);
    return ok();
  }
  PODRT_TRY(sys::make_directories(rootfs));
  // Each dependency's render is already flattened, so listing order is depth-first order.
  for (const std::string& id : dependencies) {
    std::string dependency_rootfs = PODRT_TRY(this->rootfs(id, limits));
    PODRT_TRY(image::merge_tree(dependency_rootfs, rootfs, image::FileTransfer::HardLink));
  }
  PODRT_TRY(image::merge_tree(layer_dir, rootfs, image::FileTransfer::HardLink));
  if (!manifest.path_whitelist.empty())
    PODRT_TRY(apply_path_whitelist(rootfs, manifest.path_whitelist));
  return ok();
}

Result<WorkDir> ImageStore::work_dir(const std::string& purpose) const {
  return WorkDir::create(layout_.tmp_dir(), purpose);
}

bool ImageStore::has_layer(const std::string& digest) const {
  return sys::path_exists(layout_.layer_path(oci::digest_file_name(digest)));
}

Result<ImageRecord> ImageStore::import_aci(const std::string& path,
                                           const image::UnpackLimits& limits,
                                           const ImportGate& gate) {
  sys::FileLock store_lock = PODRT_TRY(lock(sys::FileLock::Mode::Shared));
  WorkDir work = PODRT_TRY(WorkDir::create(layout_.tmp_dir(), "fetch"));
  std::string blob = work.path() + "/blob";
  std::string layer = work.path() + "/layer";
  std::string tree = work.path() + "/tree";
  PODRT_TRY(sys::make_directories(layer, 0755));
  PODRT_TRY(sys::make_directories(tree, 0755));

  image::UnpackedAci unpacked =
      PODRT_TRY_CONTEXT(image::unpack_aci(path, {blob, layer}, limits), path);
  appc::ImageManifest manifest =
      PODRT_TRY_CONTEXT(appc::ImageManifest::parse(unpacked.manifest_json), path);
  if (gate) PODRT_TRY_CONTEXT(gate(manifest), path);

  auto existing = index_.find_by_id_prefix(unpacked.image_id);
  if (existing && !existing->empty()) return existing->front();

  PODRT_TRY_CONTEXT(render(manifest, layer, tree, limits), "render " + manifest.name);
  PODRT_TRY(sys::write_file_atomic(tree + "/manifest", unpacked.manifest_json, 0644));

  ImageRecord record;
  record.id = unpacked.image_id;
  record.name = manifest.name;
  record.labels_json = labels_to_json(manifest);
  record.blob_size = unpacked.uncompressed_size;
  record.render_size = PODRT_TRY(sys::tree_size(tree + "/rootfs"));
  record.import_time = now_seconds();
  record.last_used = record.import_time;

  // Make the data durable before the index points at it, then move it into place.
  {
    UniqueFd work_fd = PODRT_TRY(sys::open_file(work.path(), O_RDONLY | O_DIRECTORY));
    if (::syncfs(work_fd.get()) != 0) return Error::from_errno("syncfs " + work.path());
  }
  PODRT_TRY(rename_into_place(blob, layout_.blob_path(record.id)));
  PODRT_TRY(rename_into_place(tree, layout_.tree_path(record.id)));
  PODRT_TRY(sys::sync_directory(layout_.blob_dir()));
  PODRT_TRY(sys::sync_directory(layout_.tree_dir()));
  PODRT_TRY(index_.insert(record));
  log::debug("imported " + record.id + " (" + record.name + ")");
  return record;
}

Result<void> ImageStore::render_oci(const std::vector<std::string>& digests,
                                    const oci::FetchedImage* fetched, const std::string& tree_dir,
                                    const image::UnpackLimits& limits) {
  std::string rootfs = tree_dir + "/rootfs";
  PODRT_TRY(sys::make_directories(rootfs, 0755));
  for (size_t i = 0; i < digests.size(); ++i) {
    const std::string& digest = digests[i];
    // A layer fetched just now is read where its source left it; the others are in the store.
    std::string blob = layout_.layer_path(oci::digest_file_name(digest));
    if (fetched && i < fetched->layers.size() && fetched->layers[i].digest == digest &&
        !fetched->layers[i].path.empty())
      blob = fetched->layers[i].path;
    if (!sys::path_exists(blob))
      return Error::invalid("layer " + digest + " is missing from the store: fetch the image again");
    std::string label = image::ProgressBar::enabled() ? "extract " + digest.substr(0, 19) : "";
    PODRT_TRY_CONTEXT(oci::apply_layer(blob, rootfs, limits, label), "layer " + digest);
  }
  return ok();
}

Result<ImageRecord> ImageStore::import_oci(const oci::FetchedImage& fetched,
                                           const image::UnpackLimits& limits,
                                           const ImportGate& gate) {
  sys::FileLock store_lock = PODRT_TRY(lock(sys::FileLock::Mode::Shared));
  // The name is checked (and trusted) before any layer is read.
  std::string name = PODRT_TRY_CONTEXT(oci::appc_name_for(fetched.name), fetched.source);
  if (gate) {
    appc::ImageManifest named;
    named.name = name;
    PODRT_TRY_CONTEXT(gate(named), fetched.source);
  }
  WorkDir work = PODRT_TRY(WorkDir::create(layout_.tmp_dir(), "import"));
  std::string blob = work.path() + "/blob";
  std::string tree = work.path() + "/tree";
  PODRT_TRY(sys::make_directories(tree, 0755));
  std::vector<std::string> digests;
  for (const oci::FetchedLayer& layer : fetched.layers) digests.push_back(layer.digest);
  PODRT_TRY_CONTEXT(render_oci(digests, &fetched, tree, limits), fetched.source);

  // The app needs the render: the image's /etc/passwd and PATH lookups resolve inside it.
  UniqueFd rootfs_fd = PODRT_TRY(sys::open_file(tree + "/rootfs", O_PATH | O_DIRECTORY));
  oci::ImageFiles files;
  files.passwd_text = image::read_small_file_in_root(rootfs_fd.get(), "/etc/passwd").value_or("");
  files.exists = [&rootfs_fd](const std::string& path) {
    return image::regular_file_in_root(rootfs_fd.get(), path);
  };
  std::string manifest_json =
      PODRT_TRY_CONTEXT(oci::appc_manifest_for(fetched, files), fetched.source);
  appc::ImageManifest manifest =
      PODRT_TRY_CONTEXT(appc::ImageManifest::parse(manifest_json), fetched.source);
  // The manifest names the config and every layer by digest, so its hash identifies the image.
  Sha512 hash;
  hash.update(manifest_json.data(), manifest_json.size());
  std::string id = "sha512-" + hash.hex_digest();
  auto existing = index_.find_by_id_prefix(id);
  if (existing && !existing->empty()) return existing->front();
  PODRT_TRY(sys::write_file_atomic(tree + "/manifest", manifest_json, 0644));
  PODRT_TRY(sys::write_file_atomic(blob, manifest_json, 0644));

  ImageRecord record;
  record.id = id;
  record.name = manifest.name;
  record.kind = ImageKind::Oci;
  record.labels_json = labels_to_json(manifest);
  for (const oci::FetchedLayer& layer : fetched.layers) record.blob_size += layer.size;
  record.render_size = PODRT_TRY(sys::tree_size(tree + "/rootfs"));
  record.import_time = now_seconds();
  record.last_used = record.import_time;

  // The fetched layers sit in another work dir of this store: one syncfs covers both.
  {
    UniqueFd work_fd = PODRT_TRY(sys::open_file(work.path(), O_RDONLY | O_DIRECTORY));
    if (::syncfs(work_fd.get()) != 0) return Error::from_errno("syncfs " + work.path());
  }
  // Layers before the row that lists them; one a concurrent pull placed first is the same bytes.
  for (const oci::FetchedLayer& layer : fetched.layers) {
    if (layer.path.empty()) continue;
    std::string target = layout_.layer_path(oci::digest_file_name(layer.digest));
    if (sys::path_exists(target)) continue;
    if (::rename(layer.path.c_str(), target.c_str()) != 0)
      return Error::from_errno("rename " + layer.path + " to " + target);
  }
  PODRT_TRY(sys::sync_directory(layout_.layer_dir()));
  PODRT_TRY(rename_into_place(blob, layout_.blob_path(record.id)));
  PODRT_TRY(rename_into_place(tree, layout_.tree_path(record.id)));
  PODRT_TRY(sys::sync_directory(layout_.blob_dir()));
  PODRT_TRY(sys::sync_directory(layout_.tree_dir()));
  PODRT_TRY(index_.insert(record));
  log::debug("imported " + record.id + " (" + record.name + ") from " + fetched.source);
  return record;
}

Result<ImageKind> ImageStore::kind_of(const std::string& id) const {
  std::vector<ImageRecord> found = PODRT_TRY(index_.find_by_id_prefix(id));
  if (found.size() != 1 || found.front().id != id)
    return Error::invalid("no image with id " + id + " in the store");
  return found.front().kind;
}

Result<ImageRecord> ImageStore::resolve(const std::string& reference) const {
  if (reference.rfind("sha512-", 0) == 0) {
    if (reference.size() <= 7 ||
        reference.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
      return Error::invalid("bad image id \"" + reference + "\"");
    std::vector<ImageRecord> found = PODRT_TRY(index_.find_by_id_prefix(reference));
    if (found.empty()) return Error::invalid("no image with id " + reference + " in the store");
    if (found.size() > 1)
      return Error::invalid("image id " + reference + " is ambiguous: give more digits");
    return found.front();
  }
  std::string name = reference;
  std::string version;
  if (size_t colon = reference.rfind(':'); colon != std::string::npos) {
    name = reference.substr(0, colon);
    version = reference.substr(colon + 1);
  }
  std::vector<ImageRecord> found = PODRT_TRY(index_.find_by_name(name));
  for (const ImageRecord& record : found)
    if (version.empty() || label_value(record, "version") == version) return record;
  return Error::invalid("no image named " + reference + " in the store");
}

Result<std::string> ImageStore::manifest_text(const std::string& id) const {
  auto text = sys::read_file(layout_.manifest_path(id));
  if (text) return text;
  // The render went missing: the blob still has the manifest (an OCI image's blob is it).
  if (PODRT_TRY(kind_of(id)) == ImageKind::Oci) return sys::read_file(layout_.blob_path(id));
  image::UnpackedAci unpacked =
      PODRT_TRY(image::unpack_aci(layout_.blob_path(id), {}, image::UnpackLimits{}));
  return unpacked.manifest_json;
}

Result<appc::ImageManifest> ImageStore::manifest(const std::string& id) const {
  std::string text = PODRT_TRY(manifest_text(id));
  return appc::ImageManifest::parse(text);
}

Result<std::string> ImageStore::rootfs(const std::string& id, const image::UnpackLimits& limits) {
  std::string rootfs = layout_.rootfs_path(id);
  if (sys::path_exists(rootfs)) return rootfs;
  log::debug("rendering " + id + " again from its blob");
  WorkDir work = PODRT_TRY(WorkDir::create(layout_.tmp_dir(), "render"));
  std::string layer = work.path() + "/layer";
  std::string tree = work.path() + "/tree";
  if (PODRT_TRY(kind_of(id)) == ImageKind::Oci) {
    std::string manifest_json = PODRT_TRY(sys::read_file(layout_.blob_path(id)));
    Sha512 hash;
    hash.update(manifest_json.data(), manifest_json.size());
    if ("sha512-" + hash.hex_digest() != id)
      return Error::invalid("blob of " + id + " is corrupt: its content no longer hashes to its id");
    appc::ImageManifest manifest = PODRT_TRY(appc::ImageManifest::parse(manifest_json));
    PODRT_TRY(sys::make_directories(tree, 0755));
    std::vector<std::string> digests = PODRT_TRY(oci::layer_digests_of(manifest));
    PODRT_TRY(render_oci(digests, nullptr, tree, limits));
    PODRT_TRY(sys::write_file_atomic(tree + "/manifest", manifest_json, 0644));
    PODRT_TRY(rename_into_place(tree, layout_.tree_path(id)));
    return rootfs;
  }
  PODRT_TRY(sys::make_directories(layer, 0755));
  PODRT_TRY(sys::make_directories(tree, 0755));
  image::UnpackedAci unpacked =
      PODRT_TRY(image::unpack_aci(layout_.blob_path(id), {"", layer}, limits));
  if (unpacked.image_id != id)
    return Error::invalid("blob of " + id + " is corrupt: its content hashes to " +
                          unpacked.image_id);
  appc::ImageManifest manifest = PODRT_TRY(appc::ImageManifest::parse(unpacked.manifest_json));
  PODRT_TRY(render(manifest, layer, tree, limits));
  PODRT_TRY(sys::write_file_atomic(tree + "/manifest", unpacked.manifest_json, 0644));
  PODRT_TRY(rename_into_place(tree, layout_.tree_path(id)));
  return rootfs;
}

Result<void> ImageStore::mark_used(const std::string& id) {
  return index_.set_last_used(id, now_seconds());
}

Result<void> ImageStore::remove(const std::string& id, const std::set<std::string>& in_use) {
  sys::FileLock store_lock = PODRT_TRY(lock(sys::FileLock::Mode::Exclusive));
  if (in_use.count(id)) return Error::invalid("image " + id + " is used by a pod: remove the pod first");
  // The index row goes first: from then on the image is gone for every reader; a crash
  // before the files are deleted leaves leftovers that gc sweeps.
  PODRT_TRY(index_.remove(id));
  PODRT_TRY(sys::remove_tree(layout_.tree_path(id)));
  PODRT_TRY(sys::remove_tree(layout_.blob_path(id)));
  PODRT_TRY(sweep_unreferenced_layers());
  return ok();
}

Result<uint64_t> ImageStore::sweep_leftovers() {
  uint64_t removed = PODRT_TRY(WorkDir::sweep(layout_.tmp_dir()));
  std::vector<ImageRecord> images = PODRT_TRY(index_.list());
  std::set<std::string> known;
  for (const ImageRecord& record : images) known.insert(record.id);
  for (const std::string& dir : {layout_.blob_dir(), layout_.tree_dir()}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (known.count(entry.path().filename())) continue;
      PODRT_TRY(sys::remove_tree(entry.path()));
      ++removed;
    }
  }
  removed += PODRT_TRY(sweep_unreferenced_layers());
  return removed;
}

Result<uint64_t> ImageStore::sweep_unreferenced_layers() {
  std::set<std::string> referenced;
  for (const ImageRecord& record : PODRT_TRY(index_.list())) {
    if (record.kind != ImageKind::Oci) continue;
    // An image whose layer list cannot be read could still need any layer: keep them all.
    auto manifest = this->manifest(record.id);
    if (!manifest) return 0;
    auto digests = oci::layer_digests_of(*manifest);
    if (!digests) return 0;
    for (const std::string& digest : *digests) referenced.insert(oci::digest_file_name(digest));
  }
  uint64_t removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout_.layer_dir(), ec)) {
    if (referenced.count(entry.path().filename())) continue;
    PODRT_TRY(sys::remove_tree(entry.path()));
    ++removed;
  }
  return removed;
}

Result<ImageGcReport> ImageStore::gc(int64_t grace_seconds, const std::set<std::string>& in_use) {
  sys::FileLock store_lock = PODRT_TRY(lock(sys::FileLock::Mode::Exclusive));
  std::vector<ImageRecord> images = PODRT_TRY(index_.list());
  int64_t cutoff = now_seconds() - grace_seconds;
  std::set<std::string> doomed;
  for (const ImageRecord& record : images)
    if (record.last_used <= cutoff && !in_use.count(record.id)) doomed.insert(record.id);
  // Keep what a kept image depends on (its render can be rebuilt only from them).
  for (bool changed = true; changed;) {
    changed = false;
    for (const ImageRecord& record : images) {
      if (doomed.count(record.id)) continue;
      auto manifest = this->manifest(record.id);
      if (!manifest) continue;
      auto dependencies = resolve_dependencies(*manifest);
      if (!dependencies) continue;
      for (const std::string& id : *dependencies) changed |= doomed.erase(id) > 0;
    }
  }
  ImageGcReport report;
  for (const std::string& id : doomed) {
    PODRT_TRY(index_.remove(id));
    PODRT_TRY(sys::remove_tree(layout_.tree_path(id)));
    PODRT_TRY(sys::remove_tree(layout_.blob_path(id)));
    report.removed_images.push_back(id);
  }
  report.removed_leftovers = PODRT_TRY(sweep_leftovers());
  return report;
}

}  // namespace podrt::store
