// The appc Image Manifest: the JSON document at the root of every ACI.
// Follows appc spec aci.md "Image Manifest Schema" (0.8.11), with types from types.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace podrt::appc {

/// A label: name (AC Identifier) and free-form value. "os", "arch" and "version" are well known.
struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

/// An annotation: name (AC Identifier) and free-form value.
struct Annotation {
  std::string name;
  std::string value;
  bool operator==(const Annotation&) const = default;
};

/// A lifecycle hook; name is "pre-start" or "post-stop".
struct EventHandler {
  std::string name;
  std::vector<std::string> exec;
  bool operator==(const EventHandler&) const = default;
};

/// Where the app expects a volume: name (AC Name) and absolute path inside the rootfs.
struct MountPoint {
  std::string name;
  std::string path;
  bool read_only = false;
  bool operator==(const MountPoint&) const = default;
};

/// A port (or a range of `count` ports from `port`) the app listens on.
struct Port {
  std::string name;
  std::string protocol;
  uint16_t port = 0;
  uint32_t count = 1;
  bool socket_activated = false;
  bool operator==(const Port&) const = default;
};

/// An isolator: name (AC Identifier) and its value, kept as JSON (see isolators.h).
struct Isolator {
  std::string name;
  nlohmann::json value;
  bool operator==(const Isolator&) const = default;
};

/// How to run the image as an application (aci.md "app").
struct App {
  std::vector<std::string> exec;
  std::string user;
  std::string group;
  std::vector<uint32_t> supplementary_gids;
  std::vector<EventHandler> event_handlers;
  std::string working_directory;
  std::vector<std::pair<std::string, std::string>> environment;
  std::vector<Isolator> isolators;
  std::vector<MountPoint> mount_points;
  std::vector<Port> ports;
  std::map<std::string, std::string> user_annotations;
  std::map<std::string, std::string> user_labels;
  bool operator==(const App&) const = default;
};

/// An image to lay down in the rootfs before this one.
struct Dependency {
  std::string image_name;
  std::optional<std::string> image_id;
  std::vector<Label> labels;
  std::optional<uint64_t> size;
  bool operator==(const Dependency&) const = default;
};

/// A parsed and validated image manifest.
struct ImageManifest {
  std::string ac_version;
  std::string name;
  std::vector<Label> labels;
  std::optional<App> app;
  std::vector<Dependency> dependencies;
  std::vector<std::string> path_whitelist;
  std::vector<Annotation> annotations;

  /// Parses and validates an image manifest. Never throws; errors are one line starting with
  /// "image manifest: ", e.g. `image manifest: name "Busy Box" is not a valid AC identifier`.
  static Result<ImageManifest> parse(std::string_view json_text);
  /// The manifest as JSON; parse(to_json().dump()) gives back an equal manifest.
  nlohmann::json to_json() const;
  /// The value of the label `name`, if present.
  std::optional<std::string> label(std::string_view name) const;
  /// The value of the annotation `name`, if present.
  std::optional<std::string> annotation(std::string_view name) const;

  bool operator==(const ImageManifest&) const = default;
};

/// Parses and validates an "app" object; shared with the pod manifest's app override.
/// Errors name the field relative to the app ("exec[0] ...").
Result<App> parse_app(const nlohmann::json& json);
/// The app as JSON, in the form parse_app reads.
nlohmann::json app_to_json(const App& app);

// Pieces shared with the pod manifest. `path` names the JSON value in error messages.

/// A list of labels: AC Identifier names, unique, not "name", a supported os/arch pair.
Result<std::vector<Label>> parse_labels(const nlohmann::json& json, const std::string& path);
nlohmann::json labels_to_json(const std::vector<Label>& labels);
/// A list of annotations: AC Identifier names, unique.
Result<std::vector<Annotation>> parse_annotations(const nlohmann::json& json,
                                                  const std::string& path);
nlohmann::json annotations_to_json(const std::vector<Annotation>& annotations);
/// A list of isolators: AC Identifier names, values checked for the well-known ones.
Result<std::vector<Isolator>> parse_isolators(const nlohmann::json& json, const std::string& path);
nlohmann::json isolators_to_json(const std::vector<Isolator>& isolators);
/// One port object: AC Name, tcp|udp, port 1..65535, count >= 1 (and within 65535).
Result<Port> parse_port(const nlohmann::json& json, const std::string& path);
nlohmann::json port_to_json(const Port& port);

}  // namespace podrt::appc
