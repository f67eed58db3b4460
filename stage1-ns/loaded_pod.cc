#include "stage1-ns/loaded_pod.h"

#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage0/store/store_layout.h"

namespace podrt::stage1 {

Result<LoadedPod> load_pod(const std::string& pod_dir, const std::string& data_dir,
                           const std::string& uuid) {
  LoadedPod pod;
  pod.uuid = uuid;
  pod.dir = pod_dir;
  pod.data_dir = data_dir;
  pod.manifest_text = PODRT_TRY(sys::read_file(pod.file(pods::kPodManifestFile)));
  pod.manifest = PODRT_TRY(appc::PodManifest::parse(pod.manifest_text));
  if (pod.manifest.apps.empty()) return Error::invalid("pod " + uuid + " has no apps");
  store::StoreLayout store(data_dir);
  for (const appc::PodApp& pod_app : pod.manifest.apps) {
    std::string info = pod_dir + "/" + std::string(pods::kAppsInfoDir) + "/" + pod_app.name;
    std::string text = PODRT_TRY(sys::read_file(info + "/" + std::string(pods::kImageManifestFile)));
    LoadedApp app{pod_app, PODRT_TRY(appc::ImageManifest::parse(text)), {}, {}};
    if (pod_app.app) app.app = *pod_app.app;
    else if (app.image.app) app.app = *app.image.app;
    else return Error::invalid("app " + pod_app.name + " has nothing to run");
    if (app.app.exec.empty()) return Error::invalid("app " + pod_app.name + " has no exec");
    app.render = store.rootfs_path(pod_app.image.id);
    if (!sys::path_exists(app.render))
      return Error::invalid("app " + pod_app.name + ": the image render " + app.render +
                            " is missing (was the image removed?)");
    pod.apps.push_back(std::move(app));
  }
  return pod;
}

}  // namespace podrt::stage1
