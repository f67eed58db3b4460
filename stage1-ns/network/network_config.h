// Which CNI network configs a pod's --net entries name: the built-in ones (rkt's default and
// default-restricted), the user's in <data_dir>/net.d/*.conf, or none/host.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace podrt::stage1::network {

/// One contained network to attach, with its CNI config as it will be passed to the plugin.
struct PlannedNetwork {
  std::string name;
  std::string cni_args;  ///< from "name:K=V;K2=V2"
  nlohmann::json config;
};

struct NetworkPlan {
  bool host = false;  ///< --net=host: no namespace at all
  /// Empty with --net=none (a namespace with only loopback) and with --net=host.
  std::vector<PlannedNetwork> networks;
};

/// rkt's built-in network configs ("default", "default-restricted"); null for other names.
nlohmann::json builtin_network_config(const std::string& name);

/// Every *.conf in `net_d` (lexical order); a missing directory has none. A file that is not a
/// JSON object with a "name" and a "type" is an error naming the file.
Result<std::vector<nlohmann::json>> load_user_networks(const std::string& net_d);

/// Where the built-in networks keep their host-local leases: host-wide, beside the pods'
/// network namespaces, because their subnets and the host's routes to their pods are too (two
/// data dirs with leases of their own could hand two running pods the same address).
inline constexpr const char* kBuiltinIpamDir = "/run/podrt/ipam";

/// Resolves --net entries against the built-in networks and <data_dir>/net.d. Every config
/// gets a cniVersion and, for host-local IPAM, a dataDir: kBuiltinIpamDir for the built-in
/// networks, <data_dir>/net/ipam for the user's.
Result<NetworkPlan> plan_networks(const std::vector<std::string>& entries,
                                  const std::string& data_dir);

}  // namespace podrt::stage1::network
