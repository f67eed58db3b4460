#include "stage1-ns/network/network_config.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "common/sys/file.h"
#include "stage1-ns/network/cni_plugin.h"

namespace podrt::stage1::network {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Entry {
  std::string name;
  std::string cni_args;
};

Result<Entry> parse_entry(const std::string& entry) {
  Entry parsed;
  auto colon = entry.find(':');
  parsed.name = entry.substr(0, colon);
  if (colon != std::string::npos) parsed.cni_args = entry.substr(colon + 1);
  if (parsed.name.empty()) return Error::invalid("--net entry \"" + entry + "\" has no name");
  // CNI_ARGS is "K=V;K2=V2": every part must be a pair, or the plugin rejects it obscurely.
  std::string_view rest = parsed.cni_args;
  while (!rest.empty()) {
    auto semicolon = rest.find(';');
    std::string_view pair = rest.substr(0, semicolon);
    auto equals = pair.find('=');
    if (equals == 0 || equals == std::string_view::npos)
      return Error::invalid("--net " + parsed.name + ": CNI argument \"" + std::string(pair) +
                            "\" is not KEY=VALUE");
    rest = semicolon == std::string_view::npos ? "" : rest.substr(semicolon + 1);
  }
  return parsed;
}

/// Fills in what podrt owns in every config it passes on.
void complete_config(json& config, const std::string& data_dir) {
  if (!config.contains("cniVersion")) config["cniVersion"] = kCniVersion;
  // host-local keeps the user networks' leases in podrt's data dir rather than /var/lib/cni:
  // leases then belong to podrt's pods only (another CNI runtime on the host using the same
  // network name cannot hand out or free them), follow --dir, and go when podrt's data is
  // removed. The built-in networks set theirs (kBuiltinIpamDir).
  if (config.contains("ipam") && config["ipam"].is_object() &&
      config["ipam"].value("type", "") == "host-local" && !config["ipam"].contains("dataDir"))
    config["ipam"]["dataDir"] = data_dir + "/net/ipam";
}

}  // namespace

json builtin_network_config(const std::string& name) {
  if (name == "default") {
    return {{"cniVersion", kCniVersion},
            {"name", "default"},
            {"type", "ptp"},
            {"ipMasq", true},
            {"ipam",
             {{"type", "host-local"},
              {"subnet", "172.16.28.0/24"},
              {"dataDir", kBuiltinIpamDir},
              {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}}}};
  }
  if (name == "default-restricted") {
    // Host-only: no default route and no masquerade (rkt uses it for the metadata service).
    return {{"cniVersion", kCniVersion},
            {"name", "default-restricted"},
            {"type", "ptp"},
            {"ipMasq", false},
            {"ipam", {{"type", "host-local"}, {"subnet", "172.31.0.0/16"}, {"dataDir", kBuiltinIpamDir}}}};
  }
  return nullptr;
}

Result<std::vector<json>> load_user_networks(const std::string& net_d) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(net_d, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".conf") files.push_back(it->path().string());
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return Error::with_code(ec.value(), "list network configs in " + net_d);
  std::sort(files.begin(), files.end());

  std::vector<json> networks;
  for (const auto& file : files) {
    std::string text = PODRT_TRY(sys::read_file(file));
    json config;
    try {
      config = json::parse(text);
    } catch (const json::exception& e) {
      std::string what = e.what();
      std::replace(what.begin(), what.end(), '\n', ' ');
      return Error::invalid("network config " + file + ": " + what);
    }
    if (!config.is_object())
      return Error::invalid("network config " + file + ": not a JSON object");
    for (const char* key : {"name", "type"}) {
      if (!config.contains(key) || !config[key].is_string() ||
          config[key].get<std::string>().empty())
        return Error::invalid("network config " + file + ": no \"" + key + "\" string");
    }
    networks.push_back(std::move(config));
  }
  return networks;
}

Result<NetworkPlan> plan_networks(const std::vector<std::string>& entries,
                                  const std::string& data_dir) {
  std::vector<Entry> parsed;
  for (const auto& entry : entries) parsed.push_back(PODRT_TRY(parse_entry(entry)));

  NetworkPlan plan;
  for (const auto& entry : parsed) {
    if (entry.name != "host" && entry.name != "none" && entry.name != "all") continue;
    if (!entry.cni_args.empty())
      return Error::invalid("--net " + entry.name + " takes no CNI arguments");
    if (entry.name != "all" && parsed.size() > 1)
      return Error::invalid("--net " + entry.name + " cannot be combined with other networks");
  }
  if (parsed.empty() || parsed[0].name == "none") return plan;
  if (parsed[0].name == "host") {
    plan.host = true;
    return plan;
  }

  auto user_networks = PODRT_TRY(load_user_networks(data_dir + "/net.d"));
  auto user_network = [&](const std::string& name) -> const json* {
    for (const auto& config : user_networks)
      if (config["name"] == name) return &config;
    return nullptr;
  };

  std::set<std::string> seen;
  auto add = [&](const std::string& name, const std::string& cni_args) -> Result<void> {
    if (!seen.insert(name).second) return Error::invalid("--net " + name + " is listed twice");
    // A user network named like a built-in one replaces it, as in rkt.
    json config;
    if (const json* user = user_network(name)) {
      config = *user;
    } else {
      config = builtin_network_config(name);
    }
    if (config.is_null())
      return Error::invalid("network " + name + " not found (no built-in network and no " +
                            data_dir + "/net.d/*.conf with that name)");
    complete_config(config, data_dir);
    plan.networks.push_back({name, cni_args, std::move(config)});
    return ok();
  };
  for (const auto& entry : parsed) {
    if (entry.name == "all") {
      for (const auto& config : user_networks) PODRT_TRY(add(config["name"], ""));
    } else {
      PODRT_TRY(add(entry.name, entry.cni_args));
    }
  }
  return plan;
}

}  // namespace podrt::stage1::network
