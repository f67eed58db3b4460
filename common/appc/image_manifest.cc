// The appc Image Manifest (appc spec aci.md "Image Manifest Schema").
#include "common/appc/image_manifest.h"

#include <set>

#include "common/appc/identifiers.h"
#include "common/appc/isolators.h"
#include "common/appc/json_fields.h"

namespace podrt::appc {
namespace {

using nlohmann::json;

using EnvVar = std::pair<std::string, std::string>;

Result<std::vector<std::string>> exec_member(const json& object, const std::string& path) {
  std::string exec_path = field_path(path, "exec");
  const json* exec = find_member(object, "exec");
  if (exec == nullptr) return Error::invalid(exec_path + " is required");
  std::vector<std::string> args = PODRT_TRY(read_string_array(*exec, exec_path));
  if (args.empty()) return Error::invalid(exec_path + " must not be empty");
  if (args[0].empty()) return Error::invalid(index_path(exec_path, 0) + " must not be empty");
  return args;
}

json string_list(const std::vector<std::string>& values) {
  json out = json::array();
  for (const std::string& value : values) out.push_back(value);
  return out;
}

Result<EventHandler> read_event_handler(const json& item, const std::string& item_path) {
  EventHandler handler;
  handler.name = PODRT_TRY(required_string(item, "name", item_path));
  if (handler.name != "pre-start" && handler.name != "post-stop")
    return Error::invalid(field_path(item_path, "name") + " " + quote_for_message(handler.name) +
                          " is not an event (want pre-start or post-stop)");
  handler.exec = PODRT_TRY(exec_member(item, item_path));
  return handler;
}

Result<EnvVar> read_env_var(const json& item, const std::string& item_path) {
  std::string name = PODRT_TRY(required_string(item, "name", item_path));
  if (auto valid = validate_env_name(name); !valid)
    return field_error(field_path(item_path, "name"), valid.error());
  std::string value = PODRT_TRY(required_string(item, "value", item_path));
  return EnvVar(std::move(name), std::move(value));
}

Result<MountPoint> read_mount_point(const json& item, const std::string& item_path) {
  MountPoint mount;
  mount.name = PODRT_TRY(required_name(item, "name", item_path));
  mount.path = PODRT_TRY(required_absolute_path(item, "path", item_path));
  mount.read_only = PODRT_TRY(optional_bool(item, "readOnly", item_path)).value_or(false);
  return mount;
}

Result<Dependency> read_dependency(const json& item, const std::string& item_path) {
  Dependency dependency;
  dependency.image_name = PODRT_TRY(required_identifier(item, "imageName", item_path));
  dependency.image_id = PODRT_TRY(optional_string(item, "imageID", item_path));
  if (dependency.image_id) {
    if (auto valid = validate_image_id(*dependency.image_id); !valid)
      return field_error(field_path(item_path, "imageID"), valid.error());
  }
  if (const json* labels = find_member(item, "labels"))
    dependency.labels = PODRT_TRY(parse_labels(*labels, field_path(item_path, "labels")));
  if (const json* size = find_member(item, "size"))
    dependency.size = PODRT_TRY(read_uint(*size, field_path(item_path, "size"), 0, UINT64_MAX));
  return dependency;
}

Result<App> parse_app_at(const json& object, const std::string& path) {
  PODRT_TRY(expect_object(object, path.empty() ? "app" : path));
  App app;
  // exec is optional in the app (an ACE may supply it) but must be usable when given.
  if (find_member(object, "exec") != nullptr) app.exec = PODRT_TRY(exec_member(object, path));
  app.user = PODRT_TRY(required_string(object, "user", path));
  app.group = PODRT_TRY(required_string(object, "group", path));
  if (app.user.empty()) return Error::invalid(field_path(path, "user") + " must not be empty");
  if (app.group.empty()) return Error::invalid(field_path(path, "group") + " must not be empty");

  // The spec's text says "supplementaryGIDs", its example "supplementaryGids"; read both.
  for (std::string_view key : {"supplementaryGIDs", "supplementaryGids"}) {
    const json* gids = find_member(object, key);
    if (gids == nullptr) continue;
    std::string gids_path = field_path(path, key);
    PODRT_TRY(expect_array(*gids, gids_path));
    for (size_t i = 0; i < gids->size(); ++i)
      app.supplementary_gids.push_back(static_cast<uint32_t>(
          PODRT_TRY(read_uint((*gids)[i], index_path(gids_path, i), 0, UINT32_MAX))));
    break;
  }

  app.event_handlers =
      PODRT_TRY(read_object_list<EventHandler>(object, "eventHandlers", path, read_event_handler));
  std::set<std::string> handler_names;
  for (size_t i = 0; i < app.event_handlers.size(); ++i) {
    if (!handler_names.insert(app.event_handlers[i].name).second)
      return Error::invalid(index_path(field_path(path, "eventHandlers"), i) + ": duplicate " +
                            app.event_handlers[i].name + " handler");
  }

  if (auto dir = PODRT_TRY(optional_string(object, "workingDirectory", path))) {
    if (!is_absolute_path(*dir))
      return Error::invalid(field_path(path, "workingDirectory") + " " + quote_for_message(*dir) +
                            " must be an absolute path");
    app.working_directory = *dir;
  }

  app.environment = PODRT_TRY(read_object_list<EnvVar>(object, "environment", path, read_env_var));
  std::set<std::string> env_names;
  for (size_t i = 0; i < app.environment.size(); ++i) {
    if (!env_names.insert(app.environment[i].first).second)
      return Error::invalid(index_path(field_path(path, "environment"), i) +
                            ": duplicate variable " + quote_for_message(app.environment[i].first));
  }

  if (const json* isolators = find_member(object, "isolators"))
    app.isolators = PODRT_TRY(parse_isolators(*isolators, field_path(path, "isolators")));
  bool seccomp_retain = false;
  bool seccomp_remove = false;
  for (const Isolator& isolator : app.isolators) {
    seccomp_retain |= isolator.name == "os/linux/seccomp-retain-set";
    seccomp_remove |= isolator.name == "os/linux/seccomp-remove-set";
  }
  if (seccomp_retain && seccomp_remove)
    return Error::invalid(field_path(path, "isolators") +
                          ": seccomp-retain-set and seccomp-remove-set cannot be used together");

  app.mount_points =
      PODRT_TRY(read_object_list<MountPoint>(object, "mountPoints", path, read_mount_point));
  std::set<std::string> mount_names;
  for (size_t i = 0; i < app.mount_points.size(); ++i) {
    if (!mount_names.insert(app.mount_points[i].name).second)
      return Error::invalid(index_path(field_path(path, "mountPoints"), i) +
                            ": duplicate mount point " + app.mount_points[i].name);
  }

  app.ports = PODRT_TRY(read_object_list<Port>(object, "ports", path, parse_port));
  std::set<std::string> port_names;
  for (size_t i = 0; i < app.ports.size(); ++i) {
    if (!port_names.insert(app.ports[i].name).second)
      return Error::invalid(index_path(field_path(path, "ports"), i) + ": duplicate port " +
                            app.ports[i].name);
  }

  if (const json* annotations = find_member(object, "userAnnotations"))
    app.user_annotations =
        PODRT_TRY(read_string_map(*annotations, field_path(path, "userAnnotations")));
  if (const json* labels = find_member(object, "userLabels"))
    app.user_labels = PODRT_TRY(read_string_map(*labels, field_path(path, "userLabels")));
  return app;
}

Result<ImageManifest> parse_manifest(std::string_view json_text) {
  json document = PODRT_TRY(parse_json_document(json_text));
  ImageManifest manifest;
  manifest.ac_version = PODRT_TRY(read_manifest_header(document, "ImageManifest"));
  manifest.name = PODRT_TRY(required_identifier(document, "name", ""));
  if (const json* labels = find_member(document, "labels"))
    manifest.labels = PODRT_TRY(parse_labels(*labels, "labels"));
  if (const json* app = find_member(document, "app"))
    manifest.app = PODRT_TRY(parse_app_at(*app, "app"));
  manifest.dependencies =
      PODRT_TRY(read_object_list<Dependency>(document, "dependencies", "", read_dependency));
  if (const json* whitelist = find_member(document, "pathWhitelist")) {
    manifest.path_whitelist = PODRT_TRY(read_string_array(*whitelist, "pathWhitelist"));
    for (size_t i = 0; i < manifest.path_whitelist.size(); ++i) {
      if (!is_absolute_path(manifest.path_whitelist[i]))
        return Error::invalid(index_path("pathWhitelist", i) + " " +
                              quote_for_message(manifest.path_whitelist[i]) +
                              " must be an absolute path");
    }
  }
  if (const json* annotations = find_member(document, "annotations"))
    manifest.annotations = PODRT_TRY(parse_annotations(*annotations, "annotations"));
  return manifest;
}

}  // namespace

Result<ImageManifest> ImageManifest::parse(std::string_view json_text) {
  try {
    return PODRT_TRY_CONTEXT(parse_manifest(json_text), "image manifest");
  } catch (const nlohmann::json::exception& e) {
    return Error::invalid(std::string("image manifest: ") + e.what());
  }
}

json ImageManifest::to_json() const {
  json out = {{"acKind", "ImageManifest"}, {"acVersion", ac_version}, {"name", name}};
  if (!labels.empty()) out["labels"] = labels_to_json(labels);
  if (app) out["app"] = app_to_json(*app);
  if (!dependencies.empty()) {
    json list = json::array();
    for (const Dependency& dependency : dependencies) {
      json item = {{"imageName", dependency.image_name}};
      if (dependency.image_id) item["imageID"] = *dependency.image_id;
      if (!dependency.labels.empty()) item["labels"] = labels_to_json(dependency.labels);
      if (dependency.size) item["size"] = *dependency.size;
      list.push_back(std::move(item));
    }
    out["dependencies"] = std::move(list);
  }
  if (!path_whitelist.empty()) out["pathWhitelist"] = string_list(path_whitelist);
  if (!annotations.empty()) out["annotations"] = annotations_to_json(annotations);
  return out;
}

std::optional<std::string> ImageManifest::label(std::string_view label_name) const {
  for (const Label& item : labels) {
    if (item.name == label_name) return item.value;
  }
  return std::nullopt;
}

std::optional<std::string> ImageManifest::annotation(std::string_view annotation_name) const {
  for (const Annotation& item : annotations) {
    if (item.name == annotation_name) return item.value;
  }
  return std::nullopt;
}

Result<App> parse_app(const json& json_value) {
  try {
    return parse_app_at(json_value, "");
  } catch (const nlohmann::json::exception& e) {
    return Error::invalid(std::string("app: ") + e.what());
  }
}

json app_to_json(const App& app) {
  json out = json::object();
  if (!app.exec.empty()) out["exec"] = string_list(app.exec);
  out["user"] = app.user;
  out["group"] = app.group;
  if (!app.supplementary_gids.empty()) out["supplementaryGIDs"] = app.supplementary_gids;
  if (!app.event_handlers.empty()) {
    json list = json::array();
    for (const EventHandler& handler : app.event_handlers)
      list.push_back({{"name", handler.name}, {"exec", string_list(handler.exec)}});
    out["eventHandlers"] = std::move(list);
  }
  if (!app.working_directory.empty()) out["workingDirectory"] = app.working_directory;
  if (!app.environment.empty()) {
    json list = json::array();
    for (const auto& [env_name, value] : app.environment)
      list.push_back({{"name", env_name}, {"value", value}});
    out["environment"] = std::move(list);
  }
  if (!app.isolators.empty()) out["isolators"] = isolators_to_json(app.isolators);
  if (!app.mount_points.empty()) {
    json list = json::array();
    for (const MountPoint& mount : app.mount_points)
      list.push_back({{"name", mount.name}, {"path", mount.path}, {"readOnly", mount.read_only}});
    out["mountPoints"] = std::move(list);
  }
  if (!app.ports.empty()) {
    json list = json::array();
    for (const Port& port : app.ports) list.push_back(port_to_json(port));
    out["ports"] = std::move(list);
  }
  if (!app.user_annotations.empty()) out["userAnnotations"] = app.user_annotations;
  if (!app.user_labels.empty()) out["userLabels"] = app.user_labels;
  return out;
}

Result<std::vector<Label>> parse_labels(const json& json_value, const std::string& path) {
  PODRT_TRY(expect_array(json_value, path));
  std::vector<Label> labels;
  std::set<std::string> seen;
  for (size_t i = 0; i < json_value.size(); ++i) {
    std::string item_path = index_path(path, i);
    PODRT_TRY(expect_object(json_value[i], item_path));
    Label label;
    label.name = PODRT_TRY(required_identifier(json_value[i], "name", item_path));
    label.value = PODRT_TRY(required_string(json_value[i], "value", item_path));
    if (label.name == "name")
      return Error::invalid(field_path(item_path, "name") +
                            ": \"name\" is not allowed as a label (the image name is separate)");
    if (!seen.insert(label.name).second)
      return Error::invalid(item_path + ": duplicate label " + quote_for_message(label.name));
    labels.push_back(std::move(label));
  }
  std::optional<std::string> os;
  std::string arch;
  for (const Label& label : labels) {
    if (label.name == "os") os = label.value;
    if (label.name == "arch") arch = label.value;
  }
  // arch is meaningful only with os (aci.md), so it is checked only then.
  if (os) {
    if (auto valid = validate_os_arch(*os, arch); !valid)
      return field_error(path + ":", valid.error());
  }
  return labels;
}

json labels_to_json(const std::vector<Label>& labels) {
  json out = json::array();
  for (const Label& label : labels) out.push_back({{"name", label.name}, {"value", label.value}});
  return out;
}

Result<std::vector<Annotation>> parse_annotations(const json& json_value, const std::string& path) {
  PODRT_TRY(expect_array(json_value, path));
  std::vector<Annotation> annotations;
  std::set<std::string> seen;
  for (size_t i = 0; i < json_value.size(); ++i) {
    std::string item_path = index_path(path, i);
    PODRT_TRY(expect_object(json_value[i], item_path));
    Annotation annotation;
    annotation.name = PODRT_TRY(required_identifier(json_value[i], "name", item_path));
    annotation.value = PODRT_TRY(required_string(json_value[i], "value", item_path));
    if (!seen.insert(annotation.name).second)
      return Error::invalid(item_path + ": duplicate annotation " +
                            quote_for_message(annotation.name));
    annotations.push_back(std::move(annotation));
  }
  return annotations;
}

json annotations_to_json(const std::vector<Annotation>& annotations) {
  json out = json::array();
  for (const Annotation& annotation : annotations)
    out.push_back({{"name", annotation.name}, {"value", annotation.value}});
  return out;
}

Result<std::vector<Isolator>> parse_isolators(const json& json_value, const std::string& path) {
  PODRT_TRY(expect_array(json_value, path));
  std::vector<Isolator> isolators;
  for (size_t i = 0; i < json_value.size(); ++i) {
    std::string item_path = index_path(path, i);
    PODRT_TRY(expect_object(json_value[i], item_path));
    Isolator isolator;
    isolator.name = PODRT_TRY(required_identifier(json_value[i], "name", item_path));
    const json* value = find_member(json_value[i], "value");
    if (value == nullptr) return Error::invalid(field_path(item_path, "value") + " is required");
    PODRT_TRY(validate_isolator_value(isolator.name, *value, field_path(item_path, "value")));
    isolator.value = *value;
    isolators.push_back(std::move(isolator));
  }
  return isolators;
}

json isolators_to_json(const std::vector<Isolator>& isolators) {
  json out = json::array();
  for (const Isolator& isolator : isolators)
    out.push_back({{"name", isolator.name}, {"value", isolator.value}});
  return out;
}

Result<Port> parse_port(const json& json_value, const std::string& path) {
  PODRT_TRY(expect_object(json_value, path));
  Port port;
  port.name = PODRT_TRY(required_name(json_value, "name", path));
  port.protocol = PODRT_TRY(required_string(json_value, "protocol", path));
  if (port.protocol != "tcp" && port.protocol != "udp")
    return Error::invalid(field_path(path, "protocol") + " " + quote_for_message(port.protocol) +
                          " is not supported (want tcp or udp)");
  const json* number = find_member(json_value, "port");
  if (number == nullptr) return Error::invalid(field_path(path, "port") + " is required");
  port.port =
      static_cast<uint16_t>(PODRT_TRY(read_uint(*number, field_path(path, "port"), 1, 65535)));
  if (const json* count = find_member(json_value, "count")) {
    uint64_t max_count = 65536 - uint64_t{port.port};  // the range must end at or below 65535
    port.count = static_cast<uint32_t>(
        PODRT_TRY(read_uint(*count, field_path(path, "count"), 1, max_count)));
  }
  port.socket_activated =
      PODRT_TRY(optional_bool(json_value, "socketActivated", path)).value_or(false);
  return port;
}

json port_to_json(const Port& port) {
  json out = {
      {"name", port.name}, {"protocol", port.protocol}, {"port", port.port}, {"count", port.count}};
  if (port.socket_activated) out["socketActivated"] = true;
  return out;
}

}  // namespace podrt::appc
