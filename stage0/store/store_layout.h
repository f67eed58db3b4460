// Where things live under the data directory (--dir, /var/lib/podrt by default).
//
//   cas/blob/sha512-<hex>             an ACI image: the uncompressed ACI, exactly the bytes its id
//                                     hashes; an OCI image: its appc manifest (what its id hashes)
//   cas/layer/sha256-<hex>            OCI/Docker layer blobs as their registries serve them, kept
//                                     once however many images share them
//   cas/tree/sha512-<hex>/manifest    the image manifest
//   cas/tree/sha512-<hex>/rootfs/     the render: dependencies and the image flattened, shared
//                                     read-only by every pod (the overlayfs lower layer)
//   cas/tmp/                          work in progress; renamed into place when complete
//   cas/index.db                      the SQLite index (ImageIndex)
//   cas/lock                          flock: shared by fetch and prepare, exclusive by image gc/rm
//   trust/                            trusted signing keys (TrustStore): prefix.d/, root.d/
//   pods/<state>/<uuid>/              pods (PodStore), rkt's six state directories
#pragma once

#include <string>

namespace podrt::store {

class StoreLayout {
 public:
  explicit StoreLayout(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  const std::string& data_dir() const { return data_dir_; }
  std::string cas_dir() const { return data_dir_ + "/cas"; }
  std::string blob_dir() const { return cas_dir() + "/blob"; }
  std::string tree_dir() const { return cas_dir() + "/tree"; }
  std::string layer_dir() const { return cas_dir() + "/layer"; }
  std::string tmp_dir() const { return cas_dir() + "/tmp"; }
  std::string index_path() const { return cas_dir() + "/index.db"; }
  std::string lock_path() const { return cas_dir() + "/lock"; }
  std::string pods_dir() const { return data_dir_ + "/pods"; }
  std::string trust_dir() const { return data_dir_ + "/trust"; }

  std::string blob_path(const std::string& id) const { return blob_dir() + "/" + id; }
  std::string tree_path(const std::string& id) const { return tree_dir() + "/" + id; }
  std::string rootfs_path(const std::string& id) const { return tree_path(id) + "/rootfs"; }
  std::string manifest_path(const std::string& id) const { return tree_path(id) + "/manifest"; }
  /// `file_name` is oci::digest_file_name(digest): "sha256-<hex>".
  std::string layer_path(const std::string& file_name) const { return layer_dir() + "/" + file_name; }

 private:
  std::string data_dir_;
};

}  // namespace podrt::store
