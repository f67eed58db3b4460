// Running one CNI plugin the way the CNI spec says: CNI_* variables in the environment, the
// network config on stdin, a result or an error as JSON on stdout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace podrt::stage1::network {

/// The CNI version podrt speaks (containernetworking-plugins 1.1 in Debian 12 supports it).
inline constexpr const char* kCniVersion = "1.0.0";

struct CniCall {
  std::string command;  ///< ADD, DEL, CHECK, VERSION
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string args;  ///< CNI_ARGS, "K=V;K2=V2"
  std::vector<std::string> plugin_dirs;  ///< CNI_PATH
  std::chrono::milliseconds timeout{60000};
};

/// Finds the executable for plugin `type` in `dirs`.
Result<std::string> find_cni_plugin(const std::string& type, const std::vector<std::string>& dirs);

/// Runs the plugin named by config["type"]. Returns its result (an empty object for DEL and
/// CHECK); a failure reads "<type>: <msg from the plugin's error JSON>".
Result<nlohmann::json> run_cni_plugin(const nlohmann::json& config, const CniCall& call);

}  // namespace podrt::stage1::network
