// The appc metadata service (ace.md "App Container Metadata Service"), served per pod on the
// host by podrt-metadata-service, which the pod's stage1 starts: the pod manifest, annotations, app image manifests and ids, and the
// identity endpoints (HMAC-SHA512 sign/verify). A random token in the URL is the only
// credential; a pod reaches the server at AC_METADATA_URL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/metadata/identity_key.h"
#include "common/metadata/pod_metadata.h"
#include "common/result.h"

namespace podrt::metadata {

/// What one pod's apps may cost the host: the server must survive hostile apps.
struct MetadataServerLimits {
  size_t max_body_bytes = 1 << 20;            ///< a larger POST body gets 413
  unsigned connection_timeout_s = 10;         ///< idle or slow (slowloris) connections are closed
  unsigned max_connections = 128;             ///< beyond this, new connections are closed at once
  size_t connection_memory_bytes = 64 << 10;  ///< request line + headers; beyond: 413/431
};

/// Requests whose first path segment is not the token get 401 with a fixed body, whatever the
/// path: the token is the credential, and 401 tells an app "your AC_METADATA_URL is wrong" rather
/// than "no such endpoint". Nothing of the pod is in that reply.
class MetadataServer {
 public:
  /// Listens on listen_ip:port (IPv4 or IPv6 literal; port 0: any free port) and serves `pod`
  /// from an internal thread until destroyed.
  static Result<std::unique_ptr<MetadataServer>> start(const std::string& listen_ip, uint16_t port,
                                                       PodMetadata pod, IdentityKey key);
  static Result<std::unique_ptr<MetadataServer>> start(const std::string& listen_ip, uint16_t port,
                                                       PodMetadata pod, IdentityKey key,
                                                       const MetadataServerLimits& limits);
  /// Stops the server: the port is closed and no thread is left when it returns.
  virtual ~MetadataServer() = default;
  /// The value of AC_METADATA_URL: "http://IP:PORT/TOKEN" (no trailing slash).
  virtual std::string url() const = 0;
  virtual uint16_t port() const = 0;
};

}  // namespace podrt::metadata
