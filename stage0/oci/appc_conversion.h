// The appc image manifest of an OCI/Docker image, as rkt's docker2aci made it: the config's
// Entrypoint + Cmd, Env, WorkingDir, User and ExposedPorts become the app; the source, digests
// and the ordered layer list go into annotations (the store renders from that list).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/appc/image_manifest.h"
#include "common/result.h"
#include "stage0/oci/fetched_image.h"

namespace podrt::oci {

/// The annotation that lists an image's layer digests, bottom first, comma-separated.
inline constexpr std::string_view kLayersAnnotation = "podrt/oci-layers";
inline constexpr std::string_view kSourceAnnotation = "podrt/oci-source";
inline constexpr std::string_view kConfigDigestAnnotation = "podrt/oci-config-digest";
inline constexpr std::string_view kManifestDigestAnnotation = "podrt/oci-manifest-digest";

/// The appc name for a repository name: lowercase, and every character an AC identifier
/// cannot hold (a registry's ':' before its port, '_', ...) becomes '-', runs of separators
/// shrink to one ("127.0.0.1:5000/busybox" -> "127.0.0.1-5000/busybox"). Refused with one line
/// when nothing valid is left.
Result<std::string> appc_name_for(std::string_view repository);

/// What the conversion reads from the rendered image.
struct ImageFiles {
  /// The image's /etc/passwd ("" when it has none): a User without a group runs with that
  /// user's primary group, as Docker does.
  std::string passwd_text;
  /// Whether an absolute path names a file in the image (symlinks resolved inside it): a bare
  /// Entrypoint such as "sh" becomes an absolute path when the image's PATH has it.
  std::function<bool(const std::string& path)> exists;
};

/// The manifest JSON (deterministic: the same image and files give the same bytes, so the
/// same image id). It always parses with appc::ImageManifest::parse. Refused with one line:
/// a config that is not linux/amd64, a relative WorkingDir, malformed Entrypoint/Cmd/Env.
/// An image with neither Entrypoint nor Cmd gets an app without exec (`run` then needs --exec).
Result<std::string> appc_manifest_for(const FetchedImage& image, const ImageFiles& files);

/// The layer digests (kLayersAnnotation), bottom first, each checked to be sha256:<64 hex>.
/// An error when the annotation is absent: the manifest is not one appc_manifest_for made.
Result<std::vector<std::string>> layer_digests_of(const appc::ImageManifest& manifest);

}  // namespace podrt::oci
