// Manifest and index parsing: strict about every field podrt relies on, so a hostile registry
// or layout gets a one-line refusal instead of a half-understood image.
#include "stage0/oci/oci_manifest.h"

#include <nlohmann/json.hpp>

#include <array>

#include "stage0/oci/digest.h"

namespace podrt::oci {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> kLayerMediaTypes = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    // What `docker save` archives hold: the uncompressed diff.
    "application/vnd.docker.image.rootfs.diff.tar",
};

/// The media type without parameters ("; charset=utf-8") or surrounding blanks.
std::string_view bare_media_type(std::string_view type) {
  size_t semicolon = type.find(';');
  if (semicolon != std::string_view::npos) type = type.substr(0, semicolon);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return type;
}

bool is_schema1_media_type(std::string_view type) {
  return type == "application/vnd.docker.distribution.manifest.v1+json" ||
         type == "application/vnd.docker.distribution.manifest.v1+prettyjws";
}

bool is_foreign_layer_media_type(std::string_view type) {
  return type.starts_with("application/vnd.docker.image.rootfs.foreign.") ||
         type.starts_with("application/vnd.oci.image.layer.nondistributable.");
}

/// A media type shortened for messages: a hostile one must not flood the line.
std::string shown(std::string_view text) {
  constexpr size_t kMaxShown = 120;
  std::string result(text.substr(0, kMaxShown));
  for (char& c : result) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > kMaxShown) result += "...";
  return result;
}

Result<json> parse_object(std::string_view text, const std::string& what) {
  json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Error::invalid(what + " is not valid JSON");
  if (!document.is_object()) return Error::invalid(what + " is not a JSON object");
  return document;
}

/// The optional string member `key`; an error when present with another type.
Result<std::string> optional_string(const json& object, const char* key, const std::string& what) {
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::string();
  if (!found->is_string()) return Error::invalid(what + ": \"" + key + "\" is not a string");
  return found->get<std::string>();
}

Result<std::string> required_string(const json& object, const char* key, const std::string& what) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string())
    return Error::invalid(what + ": \"" + key + "\" is missing or not a string");
  return found->get<std::string>();
}

/// Checks schemaVersion: 2, with schema 1 named so the user knows what to do.
Result<void> check_schema_version(const json& document, const std::string& what) {
  auto found = document.find("schemaVersion");
  if (found == document.end()) return Error::invalid(what + ": no schemaVersion");
  if (found->is_number_integer() && found->get<int64_t>() == 1)
    return Error::invalid("Docker schema 1 manifests are not supported");
  if (!found->is_number_integer() || found->get<int64_t>() != 2)
    return Error::invalid(what + ": unsupported schemaVersion " + shown(found->dump()));
  return ok();
}

/// The document's own mediaType when it has one, else the content type it was served as.
Result<std::string> effective_media_type(const json& document, std::string_view content_type,
                                         const std::string& what) {
  std::string own = PODRT_TRY(optional_string(document, "mediaType", what));
  if (!own.empty()) return own;
  return std::string(bare_media_type(content_type));
}

Result<Descriptor> parse_descriptor(const json& value, const std::string& what) {
  if (!value.is_object()) return Error::invalid(what + " is not a JSON object");
  Descriptor descriptor;
  descriptor.media_type = PODRT_TRY(required_string(value, "mediaType", what));
  std::string digest = PODRT_TRY(required_string(value, "digest", what));
  descriptor.digest = PODRT_TRY_CONTEXT(parse_digest(digest), what);
  auto size = value.find("size");
  // Unsigned integers only: a float or negative size is no size at all.
  if (size == value.end() || !size->is_number_unsigned())
    return Error::invalid(what + ": \"size\" is missing or not a non-negative integer");
  descriptor.size = size->get<uint64_t>();

  auto platform = value.find("platform");
  if (platform != value.end() && !platform->is_null()) {
    if (!platform->is_object()) return Error::invalid(what + ": \"platform\" is not a JSON object");
    descriptor.os = PODRT_TRY(optional_string(*platform, "os", what + " platform"));
    descriptor.architecture =
        PODRT_TRY(optional_string(*platform, "architecture", what + " platform"));
    descriptor.variant = PODRT_TRY(optional_string(*platform, "variant", what + " platform"));
  }
  auto annotations = value.find("annotations");
  if (annotations != value.end() && !annotations->is_null()) {
    if (!annotations->is_object())
      return Error::invalid(what + ": \"annotations\" is not a JSON object");
    for (auto it = annotations->begin(); it != annotations->end(); ++it) {
      if (!it.value().is_string())
        return Error::invalid(what + ": annotation \"" + shown(it.key()) + "\" is not a string");
      descriptor.annotations[it.key()] = it.value().get<std::string>();
    }
  }
  return descriptor;
}

Result<void> check_layer_media_type(const std::string& type, const std::string& what) {
  if (is_layer_media_type(type)) return ok();
  if (is_foreign_layer_media_type(type)) {
    return Error::invalid(what + ": non-distributable (foreign) layer type " + shown(type) +
                          " is not supported");
  }
  return Error::invalid(what + ": unsupported layer media type " + shown(type));
}

}  // namespace

std::string accepted_manifest_types() {
  std::string types;
  for (std::string_view type : {media_type::kOciManifest, media_type::kOciIndex,
                                media_type::kDockerManifest, media_type::kDockerManifestList}) {
    if (!types.empty()) types += ", ";
    types += type;
  }
  return types;
}

bool is_index_media_type(std::string_view type) {
  type = bare_media_type(type);
  return type == media_type::kOciIndex || type == media_type::kDockerManifestList;
}

bool is_layer_media_type(std::string_view type) {
  for (std::string_view known : kLayerMediaTypes) {
    if (type == known) return true;
  }
  return false;
}

Result<ImageManifest> parse_manifest(std::string_view text, std::string_view content_type) {
  const std::string what = "image manifest";
  if (is_schema1_media_type(bare_media_type(content_type)))
    return Error::invalid("Docker schema 1 manifests are not supported");
  json document = PODRT_TRY(parse_object(text, what));
  PODRT_TRY(check_schema_version(document, what));

  ImageManifest manifest;
  manifest.media_type = PODRT_TRY(effective_media_type(document, content_type, what));
  if (is_schema1_media_type(manifest.media_type))
    return Error::invalid("Docker schema 1 manifests are not supported");
  if (is_index_media_type(manifest.media_type))
    return Error::invalid(what + ": is an image index, not a manifest");
  // The OCI spec lets mediaType be absent; such a document is an OCI manifest.
  if (manifest.media_type.empty()) manifest.media_type = media_type::kOciManifest;
  if (manifest.media_type != media_type::kOciManifest &&
      manifest.media_type != media_type::kDockerManifest)
    return Error::invalid(what + ": unsupported media type " + shown(manifest.media_type));

  auto config = document.find("config");
  if (config == document.end()) return Error::invalid(what + ": no config");
  manifest.config = PODRT_TRY(parse_descriptor(*config, what + " config"));
  if (manifest.config.media_type != media_type::kOciConfig &&
      manifest.config.media_type != media_type::kDockerConfig) {
    return Error::invalid(what + ": config media type " + shown(manifest.config.media_type) +
                          " is not a container image config (an artifact, not an image?)");
  }

  auto layers = document.find("layers");
  if (layers == document.end() || !layers->is_array())
    return Error::invalid(what + ": \"layers\" is missing or not an array");
  if (layers->empty()) return Error::invalid(what + ": has no layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    std::string layer_what = what + " layer " + std::to_string(i + 1);
    Descriptor layer = PODRT_TRY(parse_descriptor((*layers)[i], layer_what));
    PODRT_TRY(check_layer_media_type(layer.media_type, layer_what));
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

Result<ImageIndex> parse_index(std::string_view text, std::string_view content_type) {
  const std::string what = "image index";
  json document = PODRT_TRY(parse_object(text, what));
  PODRT_TRY(check_schema_version(document, what));

  ImageIndex index;
  index.media_type = PODRT_TRY(effective_media_type(document, content_type, what));
  if (index.media_type.empty()) index.media_type = media_type::kOciIndex;
  if (!is_index_media_type(index.media_type))
    return Error::invalid(what + ": unsupported media type " + shown(index.media_type));

  auto manifests = document.find("manifests");
  if (manifests == document.end() || !manifests->is_array())
    return Error::invalid(what + ": \"manifests\" is missing or not an array");
  for (size_t i = 0; i < manifests->size(); ++i) {
    Descriptor entry =
        PODRT_TRY(parse_descriptor((*manifests)[i], what + " entry " + std::to_string(i + 1)));
    index.manifests.push_back(std::move(entry));
  }
  return index;
}

Result<bool> document_is_index(std::string_view text, std::string_view content_type) {
  json document = PODRT_TRY(parse_object(text, "manifest"));
  std::string type = PODRT_TRY(effective_media_type(document, content_type, "manifest"));
  if (!type.empty()) return is_index_media_type(type);
  // Neither says: an index lists manifests, a manifest has layers.
  return document.contains("manifests") && !document.contains("layers");
}

Result<Descriptor> choose_platform(const ImageIndex& index, std::string_view os,
                                   std::string_view architecture) {
  for (const Descriptor& entry : index.manifests) {
    if (entry.os == os && entry.architecture == architecture) return entry;
  }
  std::string available;
  for (const Descriptor& entry : index.manifests) {
    if (entry.os.empty() && entry.architecture.empty()) continue;
    if (!available.empty()) available += ", ";
    available += shown(entry.os) + "/" + shown(entry.architecture);
    if (!entry.variant.empty()) available += "/" + shown(entry.variant);
  }
  std::string wanted = std::string(os) + "/" + std::string(architecture);
  if (available.empty())
    return Error::invalid("the image index has no image for " + wanted + " (it names no platforms)");
  return Error::invalid("the image index has no image for " + wanted + "; it has " + available);
}

Result<std::vector<std::string>> config_diff_ids(std::string_view config_json) {
  json config = json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return Error::invalid("image config is not a JSON object");
  auto rootfs = config.find("rootfs");
  if (rootfs == config.end() || !rootfs->is_object())
    return Error::invalid("image config has no rootfs object");
  auto diff_ids = rootfs->find("diff_ids");
  if (diff_ids == rootfs->end() || !diff_ids->is_array())
    return Error::invalid("image config has no rootfs.diff_ids list");
  std::vector<std::string> result;
  for (const json& diff_id : *diff_ids) {
    if (!diff_id.is_string()) return Error::invalid("image config: a rootfs.diff_ids entry is not a string");
    result.push_back(PODRT_TRY_CONTEXT(parse_digest(diff_id.get<std::string>()), "image config rootfs.diff_ids"));
  }
  return result;
}

}  // namespace podrt::oci
