// FetchedImage: what every OCI/Docker source (docker-archive:, oci-layout:, docker://) hands to
// the image store: the image's config and its layers, each layer a verified blob on disk.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace podrt::oci {

/// One layer of an image, bottom first.
struct FetchedLayer {
  std::string digest;      ///< "sha256:<64 hex>" of the blob's bytes exactly as stored
  std::string media_type;  ///< as the manifest says (tar, tar+gzip, tar+zstd; docker or OCI names)
  uint64_t size = 0;       ///< bytes of the blob
  /// A file holding exactly the blob's bytes, already verified against `digest`; empty when
  /// the store already had this layer (LayerLookup said so) and the source did not read it.
  std::string path;
};

/// The image, as its manifest and config describe it.
struct FetchedImage {
  std::string source;         ///< what the user named, for messages ("docker://127.0.0.1:5000/busybox:1")
  std::string name;           ///< repository name ("127.0.0.1:5000/busybox", "busybox" for files without one)
  std::string tag;            ///< tag, or "" (a digest reference, or none)
  std::string manifest_digest;  ///< "sha256:..." of the image manifest bytes, or "" (docker-archive)
  std::string config_digest;  ///< "sha256:..." of config_json's bytes
  std::string config_json;    ///< the image config (OCI image-spec config.md / Docker's), verified
  std::vector<FetchedLayer> layers;
};

/// Answers whether the store already holds a layer blob with this digest; sources skip
/// downloading/copying such layers and leave FetchedLayer::path empty.
using LayerLookup = std::function<bool(const std::string& digest)>;

}  // namespace podrt::oci
