// A pod as stage1 finds it in its pod directory: the pod manifest and, for each app, its
// image manifest and the render of its image in the store.
#pragma once

#include <string>
#include <vector>

#include "common/appc/image_manifest.h"
#include "common/appc/pod_manifest.h"
#include "common/result.h"

namespace podrt::stage1 {

struct LoadedApp {
  appc::PodApp pod_app;
  appc::ImageManifest image;
  appc::App app;            ///< the pod manifest's app, or the image's
  std::string render;       ///< cas/tree/<id>/rootfs
};

struct LoadedPod {
  std::string uuid;
  std::string dir;          ///< the pod directory
  std::string data_dir;
  std::string manifest_text;
  appc::PodManifest manifest;
  std::vector<LoadedApp> apps;

  std::string file(std::string_view name) const { return dir + "/" + std::string(name); }
};

Result<LoadedPod> load_pod(const std::string& pod_dir, const std::string& data_dir,
                           const std::string& uuid);

}  // namespace podrt::stage1
