// RegistryReference: what follows "docker://" in `podrt fetch
// docker://HOST[:PORT]/NAME[:TAG|@DIGEST]`, read the way docker reads image references
// (distribution/reference).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace podrt::oci {

/// The registry that a reference without a registry host names, like docker's "docker.io".
inline constexpr std::string_view kDockerHubHost = "registry-1.docker.io";

struct RegistryReference {
  std::string host;        ///< "127.0.0.1:5000", "[::1]:5000", "registry-1.docker.io"
  std::string repository;  ///< "library/busybox"
  std::string tag;         ///< "latest" unless a tag or digest was given; "" with a digest alone
  std::string digest;      ///< "sha256:<hex>" or ""; pulled by digest when set
  /// "HOST/REPOSITORY:TAG", "HOST/REPOSITORY@DIGEST" or "HOST/REPOSITORY:TAG@DIGEST".
  std::string to_string() const;
};

/// Parses HOST[:PORT]/NAME[:TAG|@DIGEST] (both a tag and a digest are accepted, as docker does;
/// the digest then decides). A first component without '.' or ':' that is not "localhost"
/// names a Docker Hub repository ("busybox" -> registry-1.docker.io/library/busybox:latest).
Result<RegistryReference> parse_registry_reference(std::string_view text);

}  // namespace podrt::oci
