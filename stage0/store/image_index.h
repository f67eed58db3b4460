// ImageIndex: the SQLite table of images in the store (id, name, labels, sizes, times).
// Every change is one transaction, so a kill -9 leaves the index as it was before or after.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace podrt::store {

/// How an image is kept: an ACI blob, or an OCI/Docker image's layers in cas/layer.
enum class ImageKind { Aci, Oci };

/// One image as the index knows it.
struct ImageRecord {
  std::string id;           ///< "sha512-<128 hex>"
  std::string name;         ///< the manifest's AC identifier
  std::string labels_json;  ///< the manifest's labels, as a JSON object {"version": "1.0", ...}
  ImageKind kind = ImageKind::Aci;
  uint64_t blob_size = 0;   ///< bytes of the uncompressed ACI, or of the OCI image's layer blobs
  uint64_t render_size = 0; ///< bytes of the rendered root filesystem
  int64_t import_time = 0;  ///< seconds since the epoch
  int64_t last_used = 0;    ///< seconds since the epoch: import, or the last pod prepared from it
};

class ImageIndex {
 public:
  /// Opens (creating if needed) the index database at `path` and migrates its schema.
  static Result<ImageIndex> open(const std::string& path);

  Result<void> insert(const ImageRecord& record);
  Result<void> remove(const std::string& id);
  Result<void> set_last_used(const std::string& id, int64_t when);
  Result<void> set_render_size(const std::string& id, uint64_t size);

  /// All images, oldest import first.
  Result<std::vector<ImageRecord>> list() const;
  /// Images whose id starts with `id_prefix` ("sha512-" followed by at least one hex digit).
  Result<std::vector<ImageRecord>> find_by_id_prefix(const std::string& id_prefix) const;
  /// Images with this name, newest import first.
  Result<std::vector<ImageRecord>> find_by_name(const std::string& name) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit ImageIndex(sqlite3* db) : db_(db) {}
  Result<void> execute(const std::string& sql) const;
  /// PRAGMA user_version: 0 for a new file, kSchemaVersion once the schema is in place.
  Result<int> schema_version() const;
  Result<std::vector<ImageRecord>> query(const std::string& sql, const std::string& argument) const;

  std::unique_ptr<sqlite3, Closer> db_;
};

}  // namespace podrt::store
