#include "common/guest_protocol/guest_config.h"

#include "common/appc/json_fields.h"

namespace podrt::guest_protocol {
namespace {

using Json = nlohmann::json;
using appc::field_path;

// A name becomes a path component in the guest (/podrt/volumes/<name>, /opt/stage2/<name>).
Result<void> check_component(const std::string& value, const std::string& path) {
  if (value.empty() || value == "." || value == ".." || value.find('/') != std::string::npos ||
      value.find('\0') != std::string::npos)
    return Error::invalid(path + ": \"" + value + "\" cannot be a file name");
  return ok();
}

Result<void> check_absolute(const std::string& value, const std::string& path) {
  if (value.empty() || value[0] != '/' || value.find('\0') != std::string::npos)
    return Error::invalid(path + ": \"" + value + "\" is not an absolute path");
  return ok();
}

Result<std::optional<uint64_t>> optional_uint(const Json& object, std::string_view key,
                                              const std::string& path, uint64_t max) {
  const Json* value = appc::find_member(object, key);
  if (value == nullptr) return std::optional<uint64_t>{};
  return std::optional<uint64_t>{PODRT_TRY(appc::read_uint(*value, field_path(path, key), 0, max))};
}

template <class T>
void put_optional(Json& object, const char* key, const std::optional<T>& value) {
  if (value) object[key] = *value;
}

Result<GuestVolume> read_volume(const Json& item, const std::string& path) {
  GuestVolume volume;
  volume.name = PODRT_TRY(appc::required_string(item, "name", path));
  PODRT_TRY(check_component(volume.name, field_path(path, "name")));
  std::string kind = PODRT_TRY(appc::required_string(item, "kind", path));
  if (kind == "host") {
    volume.kind = GuestVolume::Kind::kHost;
    volume.tag = PODRT_TRY(appc::required_string(item, "tag", path));
    PODRT_TRY(check_component(volume.tag, field_path(path, "tag")));
  } else if (kind == "empty") {
    volume.kind = GuestVolume::Kind::kEmpty;
  } else {
    return Error::invalid(field_path(path, "kind") + ": expected \"host\" or \"empty\"");
  }
  volume.read_only = PODRT_TRY(appc::optional_bool(item, "readOnly", path)).value_or(false);
  volume.mode = static_cast<uint32_t>(PODRT_TRY(optional_uint(item, "mode", path, 07777)).value_or(0755));
  volume.uid = static_cast<uint32_t>(PODRT_TRY(optional_uint(item, "uid", path, UINT32_MAX)).value_or(0));
  volume.gid = static_cast<uint32_t>(PODRT_TRY(optional_uint(item, "gid", path, UINT32_MAX)).value_or(0));
  return volume;
}

Result<GuestMount> read_mount(const Json& item, const std::string& path) {
  GuestMount mount;
  mount.volume = PODRT_TRY(appc::required_string(item, "volume", path));
  mount.target = PODRT_TRY(appc::required_string(item, "target", path));
  PODRT_TRY(check_absolute(mount.target, field_path(path, "target")));
  mount.read_only = PODRT_TRY(appc::optional_bool(item, "readOnly", path)).value_or(false);
  return mount;
}

Result<GuestApp> read_app(const Json& item, const std::string& path) {
  GuestApp app;
  app.name = PODRT_TRY(appc::required_string(item, "name", path));
  PODRT_TRY(check_component(app.name, field_path(path, "name")));
  app.disk = PODRT_TRY(appc::required_string(item, "disk", path));
  PODRT_TRY(check_absolute(app.disk, field_path(path, "disk")));
  app.fs_type = PODRT_TRY(appc::optional_string(item, "fsType", path)).value_or("erofs");
  if (app.fs_type != "erofs" && app.fs_type != "ext4")
    return Error::invalid(field_path(path, "fsType") + ": expected \"erofs\" or \"ext4\"");
  app.read_only_root = PODRT_TRY(appc::optional_bool(item, "readOnlyRoot", path)).value_or(false);
  app.memory_bytes = PODRT_TRY(optional_uint(item, "memoryBytes", path, UINT64_MAX));
  app.cpu_shares = PODRT_TRY(optional_uint(item, "cpuShares", path, UINT64_MAX));
  app.cpu_millicores = PODRT_TRY(optional_uint(item, "cpuMillicores", path, UINT64_MAX));
  app.pids_max = PODRT_TRY(optional_uint(item, "pidsMax", path, UINT64_MAX));
  app.mounts = PODRT_TRY(appc::read_object_list<GuestMount>(item, "mounts", path, read_mount));
  return app;
}

Result<GuestNetwork> read_network(const Json& item, const std::string& path) {
  GuestNetwork network;
  network.address = PODRT_TRY(appc::required_string(item, "address", path));
  network.prefix_length =
      static_cast<uint32_t>(PODRT_TRY(optional_uint(item, "prefixLength", path, 32)).value_or(24));
  network.gateway = PODRT_TRY(appc::optional_string(item, "gateway", path)).value_or("");
  network.mtu = static_cast<uint32_t>(PODRT_TRY(optional_uint(item, "mtu", path, 65535)).value_or(1500));
  network.subnet_via_gateway =
      PODRT_TRY(appc::optional_bool(item, "subnetViaGateway", path)).value_or(false);
  if (network.subnet_via_gateway && network.gateway.empty())
    return Error::invalid(field_path(path, "subnetViaGateway") + ": needs a gateway");
  return network;
}

Result<GuestConfig> read_config(const Json& root) {
  PODRT_TRY(appc::expect_object(root, "guest config"));
  GuestConfig config;
  const Json* plan = appc::find_member(root, "plan");
  if (plan == nullptr) return Error::invalid("plan: missing");
  config.plan = PODRT_TRY(supervisor::parse_pod_plan(plan->dump()));
  config.apps = PODRT_TRY(appc::read_object_list<GuestApp>(root, "apps", "", read_app));
  if (config.apps.size() != config.plan.apps.size())
    return Error::invalid("apps: " + std::to_string(config.apps.size()) + " apps for a plan of " +
                          std::to_string(config.plan.apps.size()));
  for (size_t i = 0; i < config.apps.size(); ++i)
    if (config.apps[i].name != config.plan.apps[i].name)
      return Error::invalid("apps[" + std::to_string(i) + "]: \"" + config.apps[i].name +
                            "\" is not the plan's app \"" + config.plan.apps[i].name + "\"");
  config.volumes = PODRT_TRY(appc::read_object_list<GuestVolume>(root, "volumes", "", read_volume));
  for (const GuestApp& app : config.apps)
    for (const GuestMount& mount : app.mounts) {
      bool known = false;
      for (const GuestVolume& volume : config.volumes) known = known || volume.name == mount.volume;
      if (!known) return Error::invalid("app " + app.name + ": no volume " + mount.volume);
    }
  config.hostname = PODRT_TRY(appc::optional_string(root, "hostname", "")).value_or("");
  config.etc_hosts = PODRT_TRY(appc::optional_string(root, "etcHosts", "")).value_or("");
  config.etc_resolv_conf = PODRT_TRY(appc::optional_string(root, "etcResolvConf", "")).value_or("");
  if (const Json* network = appc::find_member(root, "network")) {
    PODRT_TRY(appc::expect_object(*network, "network"));
    config.network = PODRT_TRY(read_network(*network, "network"));
  }
  config.harden_paths = PODRT_TRY(appc::optional_bool(root, "hardenPaths", "")).value_or(true);
  config.interactive = PODRT_TRY(appc::optional_bool(root, "interactive", "")).value_or(false);
  if (config.interactive && config.apps.size() != 1)
    return Error::invalid("interactive: needs exactly one app");
  return config;
}

}  // namespace

std::string app_root_in_guest(std::string_view app_name) {
  return "/opt/stage2/" + std::string(app_name) + "/rootfs";
}

nlohmann::json to_json(const GuestConfig& config) {
  Json root;
  root["plan"] = supervisor::to_json(config.plan);
  root["apps"] = Json::array();
  for (const GuestApp& app : config.apps) {
    Json item{{"name", app.name}, {"disk", app.disk}, {"fsType", app.fs_type},
              {"readOnlyRoot", app.read_only_root}, {"mounts", Json::array()}};
    put_optional(item, "memoryBytes", app.memory_bytes);
    put_optional(item, "cpuShares", app.cpu_shares);
    put_optional(item, "cpuMillicores", app.cpu_millicores);
    put_optional(item, "pidsMax", app.pids_max);
    for (const GuestMount& mount : app.mounts)
      item["mounts"].push_back(
          {{"volume", mount.volume}, {"target", mount.target}, {"readOnly", mount.read_only}});
    root["apps"].push_back(std::move(item));
  }
  root["volumes"] = Json::array();
  for (const GuestVolume& volume : config.volumes) {
    Json item{{"name", volume.name},
              {"kind", volume.kind == GuestVolume::Kind::kHost ? "host" : "empty"},
              {"readOnly", volume.read_only}, {"mode", volume.mode}, {"uid", volume.uid},
              {"gid", volume.gid}};
    if (volume.kind == GuestVolume::Kind::kHost) item["tag"] = volume.tag;
    root["volumes"].push_back(std::move(item));
  }
  root["hostname"] = config.hostname;
  root["etcHosts"] = config.etc_hosts;
  root["etcResolvConf"] = config.etc_resolv_conf;
  if (config.network)
    root["network"] = {{"address", config.network->address},
                       {"prefixLength", config.network->prefix_length},
                       {"gateway", config.network->gateway},
                       {"mtu", config.network->mtu},
                       {"subnetViaGateway", config.network->subnet_via_gateway}};
  root["hardenPaths"] = config.harden_paths;
  root["interactive"] = config.interactive;
  return root;
}

Result<GuestConfig> parse_guest_config(std::string_view json_text) {
  auto document = appc::parse_json_document(json_text);
  if (!document) return std::move(document).error().with_context("guest config");
  return PODRT_TRY_CONTEXT(read_config(*document), "guest config");
}

}  // namespace podrt::guest_protocol
