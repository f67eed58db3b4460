// ImageStore: content-addressed ACI blobs, their renders and the index, under one data dir.
//
// Every import works in cas/tmp and renames finished files into place before one index
// transaction makes the image visible, so a kill -9 at any point leaves the store listing
// exactly what it listed before or after. Leftovers of interrupted work are swept by gc.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/appc/image_manifest.h"
#include "common/result.h"
#include "common/sys/file_lock.h"
#include "stage0/image/aci_unpacker.h"
#include "stage0/oci/fetched_image.h"
#include "stage0/store/image_index.h"
#include "stage0/store/store_layout.h"
#include "stage0/store/work_dir.h"

namespace podrt::store {

/// Runs on an image's manifest after it was read and before anything is committed: an error
/// (an untrusted signer, say) stops the import with nothing kept.
using ImportGate = std::function<Result<void>(const appc::ImageManifest&)>;

/// What `gc` removed.
struct ImageGcReport {
  std::vector<std::string> removed_images;
  uint64_t removed_leftovers = 0;  ///< blobs, renders and temporary dirs no index row owns
};

class ImageStore {
 public:
  /// Opens the store under `data_dir`, creating its directories and index if needed.
  static Result<ImageStore> open(const std::string& data_dir);

  /// Imports the ACI at `path`: unpacks and verifies it, renders it with its dependencies
  /// (which must already be in the store) and indexes it. An image already in the store is
  /// returned as it is.
  Result<ImageRecord> import_aci(const std::string& path, const image::UnpackLimits& limits,
                                 const ImportGate& gate = {});

  /// Imports an OCI/Docker image a source fetched into a work dir of this store: converts its
  /// config into an appc manifest (the image id is that manifest's sha512), applies its layers
  /// in order into the render and keeps each new layer blob in cas/layer. An image already in
  /// the store is returned as it is.
  Result<ImageRecord> import_oci(const oci::FetchedImage& image, const image::UnpackLimits& limits,
                                 const ImportGate& gate = {});

  /// A private directory under cas/tmp (the same filesystem as the store, so finished files
  /// are renamed into place), removed when the WorkDir goes.
  Result<WorkDir> work_dir(const std::string& purpose) const;
  /// Whether cas/layer holds the layer blob with this digest ("sha256:<hex>").
  bool has_layer(const std::string& digest) const;

  /// Finds one image by id (full or a unique prefix such as "sha512-91e98d7f") or by
  /// name[:version] (the newest import with that version label, or of any version).
  Result<ImageRecord> resolve(const std::string& reference) const;

  /// The image manifest, as stored (text) and parsed.
  Result<std::string> manifest_text(const std::string& id) const;
  Result<appc::ImageManifest> manifest(const std::string& id) const;

  /// The rendered root filesystem of an image, rendered again from its blob if it went missing.
  Result<std::string> rootfs(const std::string& id, const image::UnpackLimits& limits);

  /// Records that a pod was made from the image now.
  Result<void> mark_used(const std::string& id);

  /// Removes one image (index row, blob and render). Refuses images in `in_use`.
  Result<void> remove(const std::string& id, const std::set<std::string>& in_use);

  /// Removes images not used for `grace_seconds` that no pod in `in_use` and no kept image
  /// depends on, and every leftover of interrupted work.
  Result<ImageGcReport> gc(int64_t grace_seconds, const std::set<std::string>& in_use);

  /// Takes the store-wide lock: shared for fetch/prepare, exclusive for image rm/gc.
  Result<sys::FileLock> lock(sys::FileLock::Mode mode) const;

  const StoreLayout& layout() const { return layout_; }
  const ImageIndex& index() const { return index_; }

 private:
  ImageStore(StoreLayout layout, ImageIndex index)
      : layout_(std::move(layout)), index_(std::move(index)) {}

  /// Ids of the dependencies of `manifest`, in render order, each resolved in the store.
  Result<std::vector<std::string>> resolve_dependencies(const appc::ImageManifest& manifest) const;
  /// Builds `tree_dir`/rootfs from the dependencies' renders and the image's own `layer_dir`.
  Result<void> render(const appc::ImageManifest& manifest, const std::string& layer_dir,
                      const std::string& tree_dir, const image::UnpackLimits& limits);
  /// Builds `tree_dir`/rootfs of an OCI image from its layers (`digests`, bottom first), taken
  /// from `fetched` (new ones) or cas/layer.
  Result<void> render_oci(const std::vector<std::string>& digests, const oci::FetchedImage* fetched,
                          const std::string& tree_dir, const image::UnpackLimits& limits);
  Result<ImageKind> kind_of(const std::string& id) const;
  Result<uint64_t> sweep_leftovers();
  /// Removes layer blobs no indexed OCI image lists; returns how many.
  Result<uint64_t> sweep_unreferenced_layers();

  StoreLayout layout_;
  ImageIndex index_;
};

}  // namespace podrt::store
