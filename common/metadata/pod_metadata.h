// What the metadata service serves of one pod, and its JSON form: stage1 hands it to the
// podrt-metadata-service process on its stdin (so stage1 itself links no HTTP or TLS library).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

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
  std::string annotations_json;             ///< the pod's annotations as a JSON list
  std::map<std::string, AppMetadata> apps;  ///< by app name
};

nlohmann::json to_json(const PodMetadata& pod);
/// Fails, naming the field, for anything but what to_json makes.
Result<PodMetadata> pod_metadata_from_json(const std::string& text);

}  // namespace podrt::metadata
