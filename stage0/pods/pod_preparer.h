// prepare_pod: what `podrt prepare` (and later `podrt run`) does in stage0 — find or fetch each
// app's image, make sure its render exists, and write a prepared pod: the appc pod manifest,
// each app's image manifest and image id, and the per-app overlay directories.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/appc/pod_manifest.h"
#include "common/result.h"
#include "stage0/image/image_fetcher.h"
#include "stage0/pods/pod_store.h"
#include "stage0/store/image_store.h"

namespace podrt::pods {

/// One app of the pod as the user asked for it.
struct AppRequest {
  std::string image;                     ///< a file to fetch, an image id, or name[:version]
  std::optional<std::string> name;       ///< --name; derived from the image name otherwise
  std::optional<std::string> exec;       ///< --exec: replaces the image's executable
  std::vector<std::string> arguments;    ///< after `--`: replace the image's arguments
  std::optional<std::string> user;       ///< --user
  std::optional<std::string> group;      ///< --group
  std::optional<std::string> working_directory;  ///< --working-dir
  std::optional<std::vector<uint32_t>> supplementary_gids;
  std::vector<std::pair<std::string, std::string>> environment;  ///< --environment
  std::vector<appc::Isolator> isolators;  ///< --memory, --cpu, --caps-*, --seccomp, ...
  std::vector<appc::Mount> mounts;        ///< --mount
  bool read_only_rootfs = false;          ///< --readonly-rootfs
};

struct PrepareRequest {
  std::vector<AppRequest> apps;
  image::FetchPolicy fetch_policy;
  std::vector<appc::Volume> volumes;      ///< --volume
  std::vector<appc::ExposedPort> ports;   ///< --port
  /// Variables every app gets below its image's: the caller's (--inherit-env), if asked for.
  std::vector<std::pair<std::string, std::string>> inherited_environment;
  /// --set-env: every app gets these above its image's (rkt's precedence, run.md).
  std::vector<std::pair<std::string, std::string>> pod_environment;
};

/// Prepares a pod and returns its UUID. On failure nothing is left in the pod store.
Result<std::string> prepare_pod(store::ImageStore& images, const PodStore& pods,
                                const PrepareRequest& request);

/// The app name rkt would pick for an image: the last path element of its name, made a
/// valid AC Name ("example.com/Busy_Box" -> "busy-box").
std::string app_name_for_image(const std::string& image_name);

}  // namespace podrt::pods
