#include "common/metadata/pod_metadata.h"

namespace podrt::metadata {
namespace {

Result<std::string> string_field(const nlohmann::json& object, const char* name, const std::string& where) {
  auto found = object.find(name);
  if (found == object.end() || !found->is_string())
    return Error::invalid("pod metadata: " + where + name + " is not a string");
  return found->get<std::string>();
}

}  // namespace

nlohmann::json to_json(const PodMetadata& pod) {
  nlohmann::json apps = nlohmann::json::object();
  for (const auto& [name, app] : pod.apps)
    apps[name] = {{"image_id", app.image_id},
                  {"image_manifest_json", app.image_manifest_json},
                  {"annotations_json", app.annotations_json}};
  return {{"uuid", pod.uuid},
          {"pod_manifest_json", pod.pod_manifest_json},
          {"annotations_json", pod.annotations_json},
          {"apps", apps}};
}

Result<PodMetadata> pod_metadata_from_json(const std::string& text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return Error::invalid("pod metadata: not a JSON object");
  PodMetadata pod;
  pod.uuid = PODRT_TRY(string_field(json, "uuid", ""));
  pod.pod_manifest_json = PODRT_TRY(string_field(json, "pod_manifest_json", ""));
  pod.annotations_json = PODRT_TRY(string_field(json, "annotations_json", ""));
  auto apps = json.find("apps");
  if (apps == json.end() || !apps->is_object()) return Error::invalid("pod metadata: apps is not an object");
  for (const auto& [name, app] : apps->items()) {
    if (!app.is_object()) return Error::invalid("pod metadata: apps." + name + " is not an object");
    const std::string where = "apps." + name + ".";
    pod.apps[name] = {PODRT_TRY(string_field(app, "image_id", where)),
                      PODRT_TRY(string_field(app, "image_manifest_json", where)),
                      PODRT_TRY(string_field(app, "annotations_json", where))};
  }
  return pod;
}

}  // namespace podrt::metadata
