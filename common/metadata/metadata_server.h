// The appc metadata service (ace.md "App Container Metadata Service"), served per pod by its
// stage1 on the host: the pod manifest, annotations, app image manifests and ids, and the
// identity endpoints (HMAC-SHA512 sign/verify). A random token in the URL is the only
// credential; a pod reaches the server at AC_METADATA_URL.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/metadata/identity_key.h"
#include "common/result.h"

namespace podrt::metadata {

struct AppMetadata {
  std::string image_id;             ///< "sha512-..."
  std::string image_manifest_json;  ///< the app's image manifest
  std::string annotations_json;     ///< the app's annotations as a JSON list
};

struct PodMetadata {
  std::string uuid;
  std::string pod_manifest_json;
  std::string annotations_json;     ///< the pod's annotations as a JSON list
  std::map<std::string, AppMetadata> apps;  ///< by app name
};

class MetadataServer {
 public:
  /// Listens on listen_ip:port (port 0: any free port) and serves `pod` until destroyed.
  static Result<std::unique_ptr<MetadataServer>> start(const std::string& listen_ip, uint16_t port,
                                                       PodMetadata pod, IdentityKey key);
  virtual ~MetadataServer() = default;
  /// The value of AC_METADATA_URL: "http://IP:PORT/TOKEN" (no trailing slash).
  virtual std::string url() const = 0;
  virtual uint16_t port() const = 0;
};

}  // namespace podrt::metadata
