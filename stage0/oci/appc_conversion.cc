// OCI/Docker config -> appc image manifest. The config is untrusted JSON: every member is
// type-checked before it is read, and nothing here throws.
#include "stage0/oci/appc_conversion.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/appc/identifiers.h"
#include "common/appc/json_fields.h"
#include "common/log.h"
#include "stage0/oci/digest.h"

namespace podrt::oci {
namespace {

using nlohmann::json;

constexpr std::string_view kAcVersion = "0.8.11";
/// Docker's PATH for an image that sets none.
constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_identifier_separator(char c) {
  return c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}
bool is_number(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The strings of an array member ("Entrypoint", "Cmd", "Env"); absent or null is empty.
Result<std::vector<std::string>> string_list(const json& object, std::string_view member) {
  std::vector<std::string> values;
  const json* list = appc::find_member(object, member);
  if (list == nullptr) return values;
  std::string where = "image config " + std::string(member);
  if (!list->is_array()) return Error::invalid(where + " must be a list of strings");
  for (const json& value : *list) {
    if (!value.is_string()) return Error::invalid(where + " must be a list of strings");
    values.push_back(value.get<std::string>());
  }
  return values;
}

/// A string member, "" when absent; another type is an error.
Result<std::string> string_member(const json& object, std::string_view member) {
  const json* value = appc::find_member(object, member);
  if (value == nullptr) return std::string();
  if (!value->is_string())
    return Error::invalid("image config " + std::string(member) + " must be a string");
  return value->get<std::string>();
}

/// The gid field of `user`'s line (by name, or by uid for a number) in passwd-format text,
/// or "" when it is not listed.
std::string primary_group(std::string_view user, std::string_view passwd_text) {
  while (!passwd_text.empty()) {
    size_t end = passwd_text.find('\n');
    std::string_view line = passwd_text.substr(0, end);
    passwd_text = end == std::string_view::npos ? std::string_view() : passwd_text.substr(end + 1);
    std::vector<std::string_view> fields;
    for (size_t start = 0;;) {
      size_t colon = line.find(':', start);
      fields.push_back(line.substr(start, colon == std::string_view::npos ? colon : colon - start));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (fields.size() < 4) continue;
    if (fields[0] == user || (is_number(user) && fields[2] == user))
      return is_number(fields[3]) ? std::string(fields[3]) : "";
  }
  return "";
}

/// Docker's User ("", "name", "uid", "name:group", "uid:gid") as appc's user and group, which
/// appc requires both. An empty user is root. A user without a group gets its primary gid
/// from the image's /etc/passwd, as Docker does; when passwd does not list it, gid 0 (Docker's
/// fallback too). The strings are what podrt's supervisor resolves at start: a number as is,
/// a name through the image's /etc/passwd or /etc/group.
std::pair<std::string, std::string> user_and_group(const std::string& user_field,
                                                   std::string_view passwd_text) {
  size_t colon = user_field.find(':');
  std::string user = user_field.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : user_field.substr(colon + 1);
  if (user.empty()) user = "0";
  if (group.empty()) group = primary_group(user, passwd_text);
  if (group.empty()) group = "0";
  return {user, group};
}

/// A bare command ("sh") as the absolute path the image's PATH gives it, when the image has it.
/// Otherwise it stays bare: the supervisor searches PATH at start and says what is missing.
Result<std::string> resolved_command(const std::string& command, const std::string& path_env,
                                     const ImageFiles& files) {
  if (command.empty()) return Error::invalid("image config Entrypoint/Cmd starts with an empty string");
  if (command.find('/') != std::string::npos || !files.exists) return command;
  std::string_view path = path_env.empty() ? kDefaultPath : std::string_view(path_env);
  for (size_t start = 0; start <= path.size();) {
    size_t colon = path.find(':', start);
    if (colon == std::string_view::npos) colon = path.size();
    std::string dir(path.substr(start, colon - start));
    start = colon + 1;
    if (dir.empty() || dir.front() != '/') continue;
    if (dir.back() != '/') dir += '/';
    if (files.exists(dir + command)) return dir + command;
  }
  return command;
}

/// ExposedPorts ("80/tcp", "53/udp", "8080") as appc ports named "80-tcp"; others (sctp,
/// ranges) are left out: appc has no way to say them.
Result<json> ports_of(const json& container) {
  json list = json::array();
  const json* ports = appc::find_member(container, "ExposedPorts");
  if (ports == nullptr) return list;
  if (!ports->is_object()) return Error::invalid("image config ExposedPorts must be an object");
  for (const auto& [spec, unused] : ports->items()) {
    size_t slash = spec.find('/');
    std::string number = spec.substr(0, slash);
    std::string protocol = slash == std::string::npos ? "tcp" : spec.substr(slash + 1);
    unsigned long port = is_number(number) && number.size() <= 5 ? std::stoul(number) : 0;
    if (port == 0 || port > 65535 || (protocol != "tcp" && protocol != "udp")) {
      log::debug("exposed port " + appc::quote_for_message(spec) + " left out (appc cannot express it)");
      continue;
    }
    std::string name = std::to_string(port) + "-" + protocol;
    bool seen = std::any_of(list.begin(), list.end(), [&](const json& item) { return item["name"] == name; });
    if (!seen) list.push_back({{"name", name}, {"protocol", protocol}, {"port", port}});
  }
  return list;
}

/// Env "K=V" entries; entries without '=' are not variables. Later entries win, as in Docker;
/// names appc cannot carry are left out.
Result<std::vector<std::pair<std::string, std::string>>> environment_of(const json& container) {
  std::vector<std::pair<std::string, std::string>> environment;
  for (const std::string& entry : PODRT_TRY(string_list(container, "Env"))) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos) continue;
    std::string name = entry.substr(0, equals);
    if (!appc::validate_env_name(name)) {
      log::debug("environment variable " + appc::quote_for_message(name) + " left out (not a valid name)");
      continue;
    }
    auto same = std::find_if(environment.begin(), environment.end(),
                             [&](const auto& variable) { return variable.first == name; });
    if (same != environment.end()) same->second = entry.substr(equals + 1);
    else environment.emplace_back(name, entry.substr(equals + 1));
  }
  return environment;
}

Result<json> app_of(const json& container, const ImageFiles& files) {
  json app = json::object();
  auto environment = PODRT_TRY(environment_of(container));
  std::vector<std::string> entrypoint = PODRT_TRY(string_list(container, "Entrypoint"));
  // ENTRYPOINT [""] is how Docker images reset an inherited entrypoint.
  if (entrypoint.size() == 1 && entrypoint[0].empty()) entrypoint.clear();
  std::vector<std::string> exec = std::move(entrypoint);
  for (std::string& argument : PODRT_TRY(string_list(container, "Cmd"))) exec.push_back(std::move(argument));
  if (!exec.empty()) {
    std::string path_env;
    for (const auto& [name, value] : environment)
      if (name == "PATH") path_env = value;
    exec[0] = PODRT_TRY(resolved_command(exec[0], path_env, files));
    app["exec"] = exec;
  }
  auto [user, group] = user_and_group(PODRT_TRY(string_member(container, "User")), files.passwd_text);
  app["user"] = user;
  app["group"] = group;
  if (!environment.empty()) {
    json list = json::array();
    for (const auto& [name, value] : environment) list.push_back({{"name", name}, {"value", value}});
    app["environment"] = std::move(list);
  }
  std::string working_dir = PODRT_TRY(string_member(container, "WorkingDir"));
  if (!working_dir.empty()) {
    if (!appc::is_absolute_path(working_dir))
      return Error::invalid("image config WorkingDir " + appc::quote_for_message(working_dir) +
                            " must be an absolute path");
    app["workingDirectory"] = working_dir;
  }
  json ports = PODRT_TRY(ports_of(container));
  if (!ports.empty()) app["ports"] = std::move(ports);
  return app;
}

json annotation(std::string_view name, std::string_view value) {
  return json{{"name", name}, {"value", value}};
}

Result<json> annotations_of(const FetchedImage& image, const json& config, const json& container) {
  json annotations = json::array();
  annotations.push_back(annotation(kSourceAnnotation, image.source));
  annotations.push_back(annotation(kConfigDigestAnnotation, image.config_digest));
  if (!image.manifest_digest.empty())
    annotations.push_back(annotation(kManifestDigestAnnotation, image.manifest_digest));
  std::string layers;
  for (const FetchedLayer& layer : image.layers) {
    // Checked here so that the list always reads back: a ',' in a digest would split it.
    PODRT_TRY_CONTEXT(parse_digest(layer.digest), "image layer");
    layers += (layers.empty() ? "" : ",") + layer.digest;
  }
  annotations.push_back(annotation(kLayersAnnotation, layers));
  std::set<std::string> taken = {std::string(kSourceAnnotation), std::string(kConfigDigestAnnotation),
                                 std::string(kManifestDigestAnnotation), std::string(kLayersAnnotation),
                                 "created", "authors"};
  if (std::string created = PODRT_TRY(string_member(config, "created")); !created.empty())
    annotations.push_back(annotation("created", created));
  if (std::string author = PODRT_TRY(string_member(config, "author")); !author.empty())
    annotations.push_back(annotation("authors", author));
  // Config labels whose keys are AC identifiers; never one of ours ("podrt/..." included),
  // so an image cannot forge the layer list.
  const json* labels = appc::find_member(container, "Labels");
  if (labels != nullptr && labels->is_object()) {
    for (const auto& [name, value] : labels->items()) {
      if (!value.is_string() || name.starts_with("podrt/") || !appc::validate_ac_identifier(name))
        continue;
      if (taken.insert(name).second) annotations.push_back(annotation(name, value.get<std::string>()));
    }
  }
  return annotations;
}

Result<std::string> convert(const FetchedImage& image, const ImageFiles& files) {
  json config = PODRT_TRY_CONTEXT(appc::parse_json_document(image.config_json), "image config");
  if (!config.is_object()) return Error::invalid("image config is not a JSON object");
  std::string os = PODRT_TRY(string_member(config, "os"));
  std::string architecture = PODRT_TRY(string_member(config, "architecture"));
  if (os != "linux")
    return Error::invalid("image is for os " + appc::quote_for_message(os) + ": podrt runs linux images only");
  if (architecture != "amd64")
    return Error::invalid("image is for architecture " + appc::quote_for_message(architecture) +
                          ": podrt runs amd64 images only");
  json container = json::object();
  if (const json* member = appc::find_member(config, "config")) {
    if (!member->is_object()) return Error::invalid("image config member \"config\" must be an object");
    container = *member;
  }

  json manifest = {{"acKind", "ImageManifest"}, {"acVersion", kAcVersion}};
  manifest["name"] = PODRT_TRY(appc_name_for(image.name));
  json labels = json::array();
  if (!image.tag.empty()) labels.push_back({{"name", "version"}, {"value", image.tag}});
  labels.push_back({{"name", "os"}, {"value", "linux"}});
  labels.push_back({{"name", "arch"}, {"value", "amd64"}});
  manifest["labels"] = std::move(labels);
  manifest["app"] = PODRT_TRY(app_of(container, files));
  manifest["annotations"] = PODRT_TRY(annotations_of(image, config, container));
  // json sorts object keys: the same input always dumps to the same bytes. Invalid UTF-8 (a
  // source name typed by the user) is replaced rather than thrown on.
  std::string text = manifest.dump(-1, ' ', false, json::error_handler_t::replace);
  // What we hand out must be a manifest podrt accepts; a failure here is podrt's own bug.
  PODRT_TRY(appc::ImageManifest::parse(text));
  return text;
}

}  // namespace

Result<std::string> appc_name_for(std::string_view repository) {
  std::string name;
  for (char raw : repository) {
    char c = (raw >= 'A' && raw <= 'Z') ? static_cast<char>(raw - 'A' + 'a') : raw;
    if (!is_lower_alnum(c) && !is_identifier_separator(c)) c = '-';
    if (is_identifier_separator(c)) {
      if (name.empty()) continue;  // no leading separator
      if (is_identifier_separator(name.back())) {
        if (c == '/') name.back() = '/';  // a run keeps the path's structure
        continue;
      }
    }
    name += c;
  }
  while (!name.empty() && is_identifier_separator(name.back())) name.pop_back();
  if (auto valid = appc::validate_ac_identifier(name); !valid || name.empty())
    return Error::invalid("image name " + appc::quote_for_message(repository) +
                          " cannot be made an appc image name");
  return name;
}

Result<std::string> appc_manifest_for(const FetchedImage& image, const ImageFiles& files) {
  return convert(image, files);
}

Result<std::vector<std::string>> layer_digests_of(const appc::ImageManifest& manifest) {
  std::optional<std::string> list = manifest.annotation(kLayersAnnotation);
  if (!list)
    return Error::invalid("image " + manifest.name + " has no " + std::string(kLayersAnnotation) +
                          " annotation: it was not converted from an OCI image by podrt");
  std::vector<std::string> digests;
  if (list->empty()) return digests;  // an image without layers
  std::string_view rest = *list;
  for (;;) {
    size_t comma = rest.find(',');
    digests.push_back(PODRT_TRY_CONTEXT(parse_digest(rest.substr(0, comma)),
                                        "image " + manifest.name + " annotation " +
                                            std::string(kLayersAnnotation)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return digests;
}

}  // namespace podrt::oci
