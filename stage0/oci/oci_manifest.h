// Image manifests and indexes: the OCI image-spec's (manifest.md, image-index.md) and Docker's
// schema 2 equivalents (manifest v2 schema 2 and manifest lists), parsed into one model.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace podrt::oci {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
}  // namespace media_type

/// The Accept header value for a registry manifest request: every type podrt can read.
std::string accepted_manifest_types();

/// A content descriptor (descriptor.md), with the platform of index entries.
struct Descriptor {
  std::string media_type;
  std::string digest;  ///< validated by parse_digest
  uint64_t size = 0;
  std::string os;            ///< index entries only: platform.os
  std::string architecture;  ///< index entries only: platform.architecture
  std::string variant;
  std::map<std::string, std::string> annotations;
};

struct ImageManifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;  ///< bottom first
};

struct ImageIndex {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

/// True for the OCI image index and Docker manifest list media types.
bool is_index_media_type(std::string_view type);
/// True for the layer media types podrt can apply: OCI and Docker tar, tar+gzip, tar+zstd
/// (uncompressed "application/vnd.oci.image.layer.v1.tar" included). Non-distributable
/// ("foreign") layers are not.
bool is_layer_media_type(std::string_view type);

/// Parses an image manifest (OCI or Docker schema 2; schema 1 is refused with a one-line error
/// saying so). `content_type` is the HTTP Content-Type or the descriptor's mediaType, "" if unknown;
/// the document's own mediaType field is used when present. Every digest is validated, the layer
/// list must be non-empty and its media types applicable, sizes non-negative.
Result<ImageManifest> parse_manifest(std::string_view json, std::string_view content_type);
/// Parses an image index / manifest list.
Result<ImageIndex> parse_index(std::string_view json, std::string_view content_type);
/// Whether the document (given its content type or its own mediaType) is an index.
Result<bool> document_is_index(std::string_view json, std::string_view content_type);

/// The entry for os/architecture ("linux"/"amd64"); an error listing the platforms it has when
/// there is none.
Result<Descriptor> choose_platform(const ImageIndex& index, std::string_view os,
                                   std::string_view architecture);

/// The image config's rootfs.diff_ids (config.md), each validated by parse_digest.
Result<std::vector<std::string>> config_diff_ids(std::string_view config_json);

}  // namespace podrt::oci
