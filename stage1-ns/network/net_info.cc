#include "stage1-ns/network/net_info.h"

#include "common/sys/file.h"

namespace podrt::stage1::network {

using nlohmann::json;

std::string net_info_path(const std::string& pod_dir) { return pod_dir + "/net-info.json"; }

Result<void> write_net_info(const std::string& pod_dir, const NetInfo& info) {
  json entries = json::array();
  for (const auto& entry : info.entries) {
    entries.push_back({{"network", entry.network},
                       {"ifname", entry.ifname},
                       {"cniArgs", entry.cni_args},
                       {"loopback", entry.loopback},
                       {"plugins", entry.plugins},
                       {"result", entry.result},
                       {"ip", entry.attachment.ip},
                       {"gateway", entry.attachment.gateway},
                       {"subnet", entry.attachment.subnet}});
  }
  json document = {{"host", info.host},
                   {"containerId", info.container_id},
                   {"netns", info.netns},
                   {"pluginDirs", info.plugin_dirs},
                   {"networks", entries},
                   {"tornDown", info.torn_down}};
  return sys::write_file_atomic(net_info_path(pod_dir), document.dump(2) + "\n");
}

Result<std::optional<NetInfo>> read_net_info(const std::string& pod_dir) {
  std::string path = net_info_path(pod_dir);
  if (!sys::path_exists(path)) return std::optional<NetInfo>();
  std::string text = PODRT_TRY(sys::read_file(path));
  try {
    json document = json::parse(text);
    NetInfo info;
    info.host = document.at("host").get<bool>();
    info.container_id = document.at("containerId").get<std::string>();
    info.netns = document.at("netns").get<std::string>();
    info.plugin_dirs = document.at("pluginDirs").get<std::vector<std::string>>();
    info.torn_down = document.value("tornDown", false);
    for (const auto& item : document.at("networks")) {
      NetInfoEntry entry;
      entry.network = item.at("network").get<std::string>();
      entry.ifname = item.at("ifname").get<std::string>();
      entry.cni_args = item.value("cniArgs", "");
      entry.loopback = item.value("loopback", false);
      entry.plugins = item.at("plugins").get<std::vector<json>>();
      entry.result = item.value("result", json());
      entry.attachment = {entry.network, entry.ifname, item.value("ip", ""),
                          item.value("gateway", ""), item.value("subnet", "")};
      info.entries.push_back(std::move(entry));
    }
    return std::optional<NetInfo>(std::move(info));
  } catch (const json::exception& e) {
    return Error::invalid("read " + path + ": " + e.what());
  }
}

}  // namespace podrt::stage1::network
