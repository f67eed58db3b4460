// The appc Pod Manifest (appc spec pods.md "Pod Manifest Schema").
#include "common/appc/pod_manifest.h"

#include <set>

#include "common/appc/identifiers.h"
#include "common/appc/json_fields.h"

namespace podrt::appc {
namespace {

using nlohmann::json;

// "0755": 1 to 4 octal digits, at most 07777.
bool is_octal_mode(std::string_view mode) {
  if (mode.empty() || mode.size() > 5) return false;
  for (char c : mode) {
    if (c < '0' || c > '7') return false;
  }
  return mode.size() < 5 || mode[0] == '0';
}

// Dotted-quad IPv4: four decimal numbers 0..255 without leading zeros.
bool is_dotted_quad(std::string_view text) {
  int parts = 0;
  while (true) {
    size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int number = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      number = number * 10 + (c - '0');
    }
    if (number > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return parts == 4;
}

Result<Volume> read_volume(const json& item, const std::string& path) {
  PODRT_TRY(expect_object(item, path));
  Volume volume;
  volume.name = PODRT_TRY(required_name(item, "name", path));
  volume.kind = PODRT_TRY(required_string(item, "kind", path));
  if (volume.kind == "host") {
    volume.source = PODRT_TRY(required_absolute_path(item, "source", path));
  } else if (volume.kind != "empty") {
    return Error::invalid(field_path(path, "kind") + " " + quote_for_message(volume.kind) +
                          " is not a volume kind (want host or empty)");
  }
  volume.read_only = PODRT_TRY(optional_bool(item, "readOnly", path));
  volume.recursive = PODRT_TRY(optional_bool(item, "recursive", path));
  volume.mode = PODRT_TRY(optional_string(item, "mode", path));
  if (volume.mode && !is_octal_mode(*volume.mode))
    return Error::invalid(field_path(path, "mode") + " " + quote_for_message(*volume.mode) +
                          " is not an octal mode (e.g. \"0755\")");
  if (const json* uid = find_member(item, "uid"))
    volume.uid =
        static_cast<uint32_t>(PODRT_TRY(read_uint(*uid, field_path(path, "uid"), 0, UINT32_MAX)));
  if (const json* gid = find_member(item, "gid"))
    volume.gid =
        static_cast<uint32_t>(PODRT_TRY(read_uint(*gid, field_path(path, "gid"), 0, UINT32_MAX)));
  return volume;
}

Result<Mount> read_mount(const json& item, const std::string& path) {
  Mount mount;
  mount.volume = PODRT_TRY(required_name(item, "volume", path));
  mount.path = PODRT_TRY(required_absolute_path(item, "path", path));
  if (const json* app_volume = find_member(item, "appVolume"))
    mount.app_volume = PODRT_TRY(read_volume(*app_volume, field_path(path, "appVolume")));
  return mount;
}

Result<PodImage> read_pod_image(const json& item, const std::string& path) {
  PODRT_TRY(expect_object(item, path));
  PodImage image;
  image.id = PODRT_TRY(required_string(item, "id", path));
  ImageIdForm form = PODRT_TRY_CONTEXT(validate_image_id(image.id), field_path(path, "id"));
  if (form != ImageIdForm::kFull)
    return Error::invalid(field_path(path, "id") + " " + quote_for_message(image.id) +
                          " must be a full image ID (sha512- and 128 hex digits)");
  image.name = PODRT_TRY(optional_string(item, "name", path));
  if (image.name) {
    if (auto valid = validate_ac_identifier(*image.name); !valid)
      return field_error(field_path(path, "name"), valid.error());
  }
  if (const json* labels = find_member(item, "labels"))
    image.labels = PODRT_TRY(parse_labels(*labels, field_path(path, "labels")));
  return image;
}

Result<PodApp> read_pod_app(const json& item, const std::string& path) {
  PodApp app;
  app.name = PODRT_TRY(required_name(item, "name", path));
  const json* image = find_member(item, "image");
  if (image == nullptr) return Error::invalid(field_path(path, "image") + " is required");
  app.image = PODRT_TRY(read_pod_image(*image, field_path(path, "image")));
  if (const json* override_app = find_member(item, "app"))
    app.app = PODRT_TRY_CONTEXT(parse_app(*override_app), field_path(path, "app"));
  app.read_only_root_fs = PODRT_TRY(optional_bool(item, "readOnlyRootFS", path)).value_or(false);
  app.mounts = PODRT_TRY(read_object_list<Mount>(item, "mounts", path, read_mount));
  if (const json* annotations = find_member(item, "annotations"))
    app.annotations = PODRT_TRY(parse_annotations(*annotations, field_path(path, "annotations")));
  return app;
}

Result<ExposedPort> read_exposed_port(const json& item, const std::string& path) {
  ExposedPort port;
  port.name = PODRT_TRY(required_name(item, "name", path));
  const json* host_port = find_member(item, "hostPort");
  if (host_port == nullptr) return Error::invalid(field_path(path, "hostPort") + " is required");
  port.host_port = static_cast<uint16_t>(
      PODRT_TRY(read_uint(*host_port, field_path(path, "hostPort"), 1, 65535)));
  port.host_ip = PODRT_TRY(optional_string(item, "hostIP", path));
  if (port.host_ip && !is_dotted_quad(*port.host_ip))
    return Error::invalid(field_path(path, "hostIP") + " " + quote_for_message(*port.host_ip) +
                          " is not a dotted-quad IPv4 address");
  if (const json* pod_port = find_member(item, "podPort"))
    port.pod_port = PODRT_TRY(parse_port(*pod_port, field_path(path, "podPort")));
  return port;
}

Result<PodManifest> parse_manifest(std::string_view json_text) {
  json document = PODRT_TRY(parse_json_document(json_text));
  PodManifest manifest;
  manifest.ac_version = PODRT_TRY(read_manifest_header(document, "PodManifest"));
  if (find_member(document, "apps") == nullptr) return Error::invalid("apps is required");
  manifest.apps = PODRT_TRY(read_object_list<PodApp>(document, "apps", "", read_pod_app));
  manifest.volumes = PODRT_TRY(read_object_list<Volume>(document, "volumes", "", read_volume));
  if (const json* isolators = find_member(document, "isolators"))
    manifest.isolators = PODRT_TRY(parse_isolators(*isolators, "isolators"));
  if (const json* annotations = find_member(document, "annotations"))
    manifest.annotations = PODRT_TRY(parse_annotations(*annotations, "annotations"));
  manifest.ports =
      PODRT_TRY(read_object_list<ExposedPort>(document, "ports", "", read_exposed_port));
  if (const json* annotations = find_member(document, "userAnnotations"))
    manifest.user_annotations = PODRT_TRY(read_string_map(*annotations, "userAnnotations"));
  if (const json* labels = find_member(document, "userLabels"))
    manifest.user_labels = PODRT_TRY(read_string_map(*labels, "userLabels"));

  std::set<std::string> app_names;
  for (size_t i = 0; i < manifest.apps.size(); ++i) {
    if (!app_names.insert(manifest.apps[i].name).second)
      return Error::invalid(index_path("apps", i) + ": duplicate app name " +
                            quote_for_message(manifest.apps[i].name));
  }
  std::set<std::string> volume_names;
  for (size_t i = 0; i < manifest.volumes.size(); ++i) {
    if (!volume_names.insert(manifest.volumes[i].name).second)
      return Error::invalid(index_path("volumes", i) + ": duplicate volume name " +
                            quote_for_message(manifest.volumes[i].name));
  }
  for (size_t i = 0; i < manifest.apps.size(); ++i) {
    const std::vector<Mount>& mounts = manifest.apps[i].mounts;
    for (size_t j = 0; j < mounts.size(); ++j) {
      if (!mounts[j].app_volume && volume_names.count(mounts[j].volume) == 0)
        return Error::invalid(index_path(index_path("apps", i) + ".mounts", j) + ".volume " +
                              quote_for_message(mounts[j].volume) + " is not a volume of the pod");
    }
  }
  std::set<std::string> port_names;
  for (size_t i = 0; i < manifest.ports.size(); ++i) {
    if (!port_names.insert(manifest.ports[i].name).second)
      return Error::invalid(index_path("ports", i) + ": duplicate port " +
                            quote_for_message(manifest.ports[i].name));
  }
  return manifest;
}

json volume_to_json(const Volume& volume) {
  json out = {{"name", volume.name}, {"kind", volume.kind}};
  if (volume.kind == "host") out["source"] = volume.source;
  if (volume.read_only) out["readOnly"] = *volume.read_only;
  if (volume.recursive) out["recursive"] = *volume.recursive;
  if (volume.mode) out["mode"] = *volume.mode;
  if (volume.uid) out["uid"] = *volume.uid;
  if (volume.gid) out["gid"] = *volume.gid;
  return out;
}

json pod_app_to_json(const PodApp& app) {
  json image = {{"id", app.image.id}};
  if (app.image.name) image["name"] = *app.image.name;
  if (!app.image.labels.empty()) image["labels"] = labels_to_json(app.image.labels);
  json out = {{"name", app.name}, {"image", std::move(image)}};
  if (app.app) out["app"] = app_to_json(*app.app);
  if (app.read_only_root_fs) out["readOnlyRootFS"] = true;
  if (!app.mounts.empty()) {
    json mounts = json::array();
    for (const Mount& mount : app.mounts) {
      json item = {{"volume", mount.volume}, {"path", mount.path}};
      if (mount.app_volume) item["appVolume"] = volume_to_json(*mount.app_volume);
      mounts.push_back(std::move(item));
    }
    out["mounts"] = std::move(mounts);
  }
  if (!app.annotations.empty()) out["annotations"] = annotations_to_json(app.annotations);
  return out;
}

}  // namespace

Result<PodManifest> PodManifest::parse(std::string_view json_text) {
  try {
    return PODRT_TRY_CONTEXT(parse_manifest(json_text), "pod manifest");
  } catch (const nlohmann::json::exception& e) {
    return Error::invalid(std::string("pod manifest: ") + e.what());
  }
}

json PodManifest::to_json() const {
  json out = {{"acKind", "PodManifest"}, {"acVersion", ac_version}};
  json app_list = json::array();
  for (const PodApp& pod_app : apps) app_list.push_back(pod_app_to_json(pod_app));
  out["apps"] = std::move(app_list);
  if (!volumes.empty()) {
    json list = json::array();
    for (const Volume& item : volumes) list.push_back(volume_to_json(item));
    out["volumes"] = std::move(list);
  }
  if (!isolators.empty()) out["isolators"] = isolators_to_json(isolators);
  if (!annotations.empty()) out["annotations"] = annotations_to_json(annotations);
  if (!ports.empty()) {
    json list = json::array();
    for (const ExposedPort& port : ports) {
      json item = {{"name", port.name}, {"hostPort", port.host_port}};
      if (port.host_ip) item["hostIP"] = *port.host_ip;
      if (port.pod_port) item["podPort"] = port_to_json(*port.pod_port);
      list.push_back(std::move(item));
    }
    out["ports"] = std::move(list);
  }
  if (!user_annotations.empty()) out["userAnnotations"] = user_annotations;
  if (!user_labels.empty()) out["userLabels"] = user_labels;
  return out;
}

const PodApp* PodManifest::app(std::string_view app_name) const {
  for (const PodApp& item : apps) {
    if (item.name == app_name) return &item;
  }
  return nullptr;
}

const Volume* PodManifest::volume(std::string_view volume_name) const {
  for (const Volume& item : volumes) {
    if (item.name == volume_name) return &item;
  }
  return nullptr;
}

}  // namespace podrt::appc
