// pod_dir/net-info.json: what a pod's network setup is about to do and what it did, written
// before each step so that teardown (at exit, or by gc after a SIGKILL) can undo all of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "stage1-ns/network/pod_network.h"

namespace podrt::stage1::network {

/// One CNI attachment: a network (or the pod's loopback) and its plugin chain.
struct NetInfoEntry {
  std::string network;  ///< "default", ... or "loopback"
  std::string ifname;   ///< eth0, ... or lo
  std::string cni_args;
  bool loopback = false;
  /// The plugins in chain order, each config as passed on stdin (without prevResult).
  std::vector<nlohmann::json> plugins;
  /// The ADD result of the chain's first plugin; null until it succeeded.
  nlohmann::json result;
  NetworkAttachment attachment;
};

struct NetInfo {
  bool host = false;
  std::string container_id;
  std::string netns;
  std::vector<std::string> plugin_dirs;  ///< CNI_PATH, so teardown needs only the pod dir
  std::vector<NetInfoEntry> entries;
  bool torn_down = false;
};

std::string net_info_path(const std::string& pod_dir);
/// nullopt when the pod has no net-info.json.
Result<std::optional<NetInfo>> read_net_info(const std::string& pod_dir);
Result<void> write_net_info(const std::string& pod_dir, const NetInfo& info);

}  // namespace podrt::stage1::network
