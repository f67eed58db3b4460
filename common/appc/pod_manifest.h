// The appc Pod Manifest: the apps, volumes and settings of one pod.
// Follows appc spec pods.md "Pod Manifest Schema" (0.8.11), with types from types.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/appc/image_manifest.h"
#include "common/result.h"

namespace podrt::appc {

/// The image an app runs: id is a full "sha512-<128 hex>" image ID.
struct PodImage {
  std::string id;
  std::optional<std::string> name;
  std::vector<Label> labels;
  bool operator==(const PodImage&) const = default;
};

/// A pod volume. kind is "host" (bind-mount `source`) or "empty" (a fresh directory).
struct Volume {
  std::string name;
  std::string kind;
  std::string source;               ///< absolute host path; set only for kind "host"
  std::optional<bool> read_only;    ///< spec default: false
  std::optional<bool> recursive;    ///< spec default (host): recursive
  std::optional<std::string> mode;  ///< octal string such as "0755"; kind "empty"
  std::optional<uint32_t> uid;      ///< kind "empty"
  std::optional<uint32_t> gid;      ///< kind "empty"
  bool operator==(const Volume&) const = default;
};

/// A mapping of a volume into an app at `path`. `app_volume`, when set, is used instead of
/// looking `volume` up in the pod's volumes.
struct Mount {
  std::string volume;
  std::string path;
  std::optional<Volume> app_volume;
  bool operator==(const Mount&) const = default;
};

/// One app of the pod.
struct PodApp {
  std::string name;
  PodImage image;
  std::optional<App> app;  ///< replaces the image manifest's app when set
  bool read_only_root_fs = false;
  std::vector<Mount> mounts;
  std::vector<Annotation> annotations;
  bool operator==(const PodApp&) const = default;
};

/// A port to expose on the host.
struct ExposedPort {
  std::string name;
  uint16_t host_port = 0;
  std::optional<std::string> host_ip;  ///< dotted-quad IPv4 address
  std::optional<Port> pod_port;        ///< overrides the images' port of the same name
  bool operator==(const ExposedPort&) const = default;
};

/// A parsed and validated pod manifest.
struct PodManifest {
  std::string ac_version;
  std::vector<PodApp> apps;
  std::vector<Volume> volumes;
  std::vector<Isolator> isolators;
  std::vector<Annotation> annotations;
  std::vector<ExposedPort> ports;
  std::map<std::string, std::string> user_annotations;
  std::map<std::string, std::string> user_labels;

  /// Parses and validates a pod manifest. Never throws; errors are one line starting with
  /// "pod manifest: ", e.g. `pod manifest: apps[1].mounts[0].volume "db" is not a volume`.
  static Result<PodManifest> parse(std::string_view json_text);
  /// The manifest as JSON; parse(to_json().dump()) gives back an equal manifest.
  nlohmann::json to_json() const;
  /// The app named `name`, or nullptr.
  const PodApp* app(std::string_view name) const;
  /// The volume named `name`, or nullptr.
  const Volume* volume(std::string_view name) const;

  bool operator==(const PodManifest&) const = default;
};

}  // namespace podrt::appc
