#include "stage0/pods/pod_preparer.h"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "common/appc/environment.h"
#include "common/appc/identifiers.h"
#include "common/appc/pod_manifest.h"
#include "common/log.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"

namespace podrt::pods {
namespace {

constexpr const char* kAppcVersion = "0.8.11";

/// The app an image runs, with the user's --exec and arguments applied.
Result<appc::App> app_for(const appc::ImageManifest& manifest, const AppRequest& request) {
  if (!manifest.app && !request.exec)
    return Error::invalid("image " + manifest.name + " has no app: give --exec");
  appc::App app;
  if (manifest.app) {
    app = *manifest.app;
  } else {
    app.user = "0";
    app.group = "0";
  }
  if (request.exec) {
    if (!appc::is_absolute_path(*request.exec))
      return Error::invalid("--exec " + *request.exec + ": must be an absolute path");
    app.exec = {*request.exec};
  }
  if (request.exec || !request.arguments.empty()) {
    app.exec.resize(1);
    app.exec.insert(app.exec.end(), request.arguments.begin(), request.arguments.end());
  }
  if (request.user) app.user = *request.user;
  if (request.group) app.group = *request.group;
  if (request.working_directory) {
    if (!appc::is_absolute_path(*request.working_directory))
      return Error::invalid("--working-dir " + *request.working_directory +
                            ": must be an absolute path");
    app.working_directory = *request.working_directory;
  }
  if (request.supplementary_gids) app.supplementary_gids = *request.supplementary_gids;
  // A flag's isolator replaces the image's isolator of the same name.
  for (const appc::Isolator& isolator : request.isolators) {
    std::erase_if(app.isolators,
                  [&](const appc::Isolator& other) { return other.name == isolator.name; });
    app.isolators.push_back(isolator);
  }
  return app;
}

/// rkt's precedence, last wins: the caller's (--inherit-env) < the image's < --set-env <
/// --environment.
std::vector<std::pair<std::string, std::string>> merged_environment(
    const PrepareRequest& pod, const AppRequest& request, const appc::App& app) {
  std::vector<std::pair<std::string, std::string>> environment;
  for (const auto& layer : {pod.inherited_environment, app.environment, pod.pod_environment,
                            request.environment})
    for (const auto& [name, value] : layer) appc::set_variable(environment, name, value);
  return environment;
}

/// Volumes must exist when the pod is made, not when it runs: a typo fails `prepare`.
Result<void> check_volumes(const std::vector<appc::Volume>& volumes) {
  std::set<std::string> names;
  for (const appc::Volume& volume : volumes) {
    if (!names.insert(volume.name).second)
      return Error::invalid("volume " + volume.name + " is given twice");
    struct stat st;
    if (volume.kind == "host" && ::stat(volume.source.c_str(), &st) != 0)
      return Error::from_errno("volume " + volume.name + ": source " + volume.source);
  }
  return ok();
}

}  // namespace

std::string app_name_for_image(const std::string& image_name) {
  std::string base = image_name.substr(image_name.rfind('/') + 1);
  std::string name;
  for (char c : base) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c >= 'A' && c <= 'Z') name += static_cast<char>(c - 'A' + 'a');
    else if (alnum) name += c;
    else if (!name.empty() && name.back() != '-') name += '-';
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name.empty() ? "app" : name;
}

Result<std::string> prepare_pod(store::ImageStore& images, const PodStore& pods,
                                const PrepareRequest& request) {
  if (request.apps.empty()) return Error::invalid("prepare: no image given");
  // Held until the pod is prepared, so that image gc cannot take an image from under us.
  sys::FileLock store_lock = PODRT_TRY(images.lock(sys::FileLock::Mode::Shared));

  struct PreparedApp {
    store::ImageRecord image;
    std::string manifest_text;
    appc::PodApp pod_app;
  };
  PODRT_TRY(check_volumes(request.volumes));
  std::vector<appc::Volume> volumes = request.volumes;
  std::vector<PreparedApp> apps;
  std::set<std::string> names;
  for (const AppRequest& app_request : request.apps) {
    store::ImageRecord image =
        image::is_fetchable_reference(app_request.image)
            ? PODRT_TRY(image::fetch_image(images, app_request.image, request.fetch_policy))
            : PODRT_TRY(images.resolve(app_request.image));
    std::string manifest_text = PODRT_TRY(images.manifest_text(image.id));
    appc::ImageManifest manifest = PODRT_TRY(appc::ImageManifest::parse(manifest_text));
    PODRT_TRY(images.rootfs(image.id, request.fetch_policy.limits));

    appc::PodApp pod_app;
    pod_app.name = app_request.name.value_or(app_name_for_image(manifest.name));
    PODRT_TRY_CONTEXT(appc::validate_ac_name(pod_app.name), "app name");
    if (!app_request.name) {
      // Two apps from the same image get "busybox", "busybox-2", ...
      std::string base = pod_app.name;
      for (int n = 2; names.count(pod_app.name); ++n) pod_app.name = base + "-" + std::to_string(n);
    }
    if (!names.insert(pod_app.name).second)
      return Error::invalid("two apps are named " + pod_app.name + ": give each a --name");
    pod_app.image.id = image.id;
    pod_app.image.name = manifest.name;
    pod_app.image.labels = manifest.labels;
    pod_app.app = PODRT_TRY(app_for(manifest, app_request));
    pod_app.app->environment = merged_environment(request, app_request, *pod_app.app);
    pod_app.read_only_root_fs = app_request.read_only_rootfs;
    pod_app.mounts = app_request.mounts;
    for (const appc::Mount& mount : pod_app.mounts) {
      bool known = std::any_of(volumes.begin(), volumes.end(),
                               [&](const appc::Volume& v) { return v.name == mount.volume; });
      if (!known) return Error::invalid("--mount volume=" + mount.volume + ": no such --volume");
    }
    // A mount point nobody gave a volume for gets an empty one (rkt warns and does the same).
    for (const appc::MountPoint& point : pod_app.app->mount_points) {
      bool known = std::any_of(volumes.begin(), volumes.end(),
                               [&](const appc::Volume& v) { return v.name == point.name; });
      if (known) continue;
      log::warning("no volume for mount point " + point.name + " of app " + pod_app.name +
                ": using an empty one");
      appc::Volume empty;
      empty.name = point.name;
      empty.kind = "empty";
      volumes.push_back(std::move(empty));
    }
    apps.push_back({std::move(image), std::move(manifest_text), std::move(pod_app)});
  }

  appc::PodManifest pod_manifest;
  pod_manifest.ac_version = kAppcVersion;
  for (const PreparedApp& app : apps) pod_manifest.apps.push_back(app.pod_app);
  pod_manifest.volumes = volumes;
  pod_manifest.ports = request.ports;
  for (const appc::ExposedPort& port : pod_manifest.ports) {
    bool exposed = std::any_of(apps.begin(), apps.end(), [&](const PreparedApp& app) {
      return std::any_of(app.pod_app.app->ports.begin(), app.pod_app.app->ports.end(),
                         [&](const appc::Port& p) { return p.name == port.name; });
    });
    if (!exposed) return Error::invalid("--port " + port.name + ": no app exposes a port by that name");
  }
  // What stage1 will parse: check it now, so that a bad isolator value fails `prepare`.
  PODRT_TRY(appc::PodManifest::parse(pod_manifest.to_json().dump()));

  PreparingPod pod = PODRT_TRY(pods.begin_prepare());
  for (const PreparedApp& app : apps) {
    std::string info = pod.path() + "/" + std::string(kAppsInfoDir) + "/" + app.pod_app.name;
    PODRT_TRY(sys::make_directories(info, 0755));
    PODRT_TRY(sys::write_file_atomic(info + "/" + std::string(kImageManifestFile), app.manifest_text, 0644, sys::Sync::No));
    PODRT_TRY(sys::write_file_atomic(info + "/" + std::string(kImageIdFile), app.image.id, 0644, sys::Sync::No));
    std::string overlay = pod.path() + "/" + std::string(kOverlayDir) + "/" + app.pod_app.name;
    PODRT_TRY(sys::make_directories(overlay + "/upper", 0755));
    PODRT_TRY(sys::make_directories(overlay + "/work", 0700));
    PODRT_TRY(images.mark_used(app.image.id));
  }
  PODRT_TRY(sys::write_file_atomic(pod.path() + "/" + std::string(kPodManifestFile),
                                   pod_manifest.to_json().dump(2), 0644, sys::Sync::No));
  PODRT_TRY(pod.commit());
  return pod.uuid();
}

}  // namespace podrt::pods
