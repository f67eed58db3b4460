// A pod's network on the host side, through the real CNI plugins (containernetworking-plugins):
// a network namespace bind-mounted at /run/podrt/netns/<uuid>, one CNI network per --net
// entry, port forwards through the portmap plugin. Everything setup does is recorded in the
// pod directory first, so teardown (stage1 exit or gc after a SIGKILL) can always undo it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1::network {

/// A --port NAME:[HOSTIP:]HOSTPORT resolved against the image's ports.
struct PortForward {
  std::string name;
  std::string protocol = "tcp";
  uint16_t pod_port = 0;
  uint16_t host_port = 0;
  std::optional<std::string> host_ip;
};

struct NetworkOptions {
  /// --net entries: "default", "default-restricted", "none", "host", or the name of a user
  /// network in <data_dir>/net.d/*.conf; each may carry ":K=V;K2=V2" CNI_ARGS.
  std::vector<std::string> networks = {"default"};
  std::vector<PortForward> ports;
  std::string data_dir;
  std::string pod_dir;
  std::string pod_uuid;
  std::string cni_plugin_dir = "/usr/lib/cni";
};

struct NetworkAttachment {
  std::string network;    ///< "default", ...
  std::string interface;  ///< eth0, eth1, ...
  std::string ip;         ///< the pod's address, without prefix length
  std::string gateway;    ///< host side address (metadata service listens there)
  std::string subnet;     ///< e.g. 172.16.28.0/24
};

struct PodNetwork {
  bool host = false;          ///< --net=host: the pod shares the host's namespace
  std::string netns_path;     ///< empty with --net=host
  std::vector<NetworkAttachment> attachments;
  std::vector<std::string> dns_servers;   ///< from the CNI results
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_options;
  /// Sockets bound on each forwarded host port, held for the pod's life so that a second pod
  /// asking for the same port fails with "port already in use".
  std::vector<UniqueFd> port_reservations;
};

/// Creates the pod's network namespace and runs CNI ADD for each network. On failure it
/// undoes what it did. Errors are one line ("network default: ptp: ...").
Result<PodNetwork> setup_pod_network(const NetworkOptions& options);
/// Runs CNI DEL for what pod_dir/net-info.json records, unmounts and removes the namespace.
/// Idempotent, and fine on a pod that never had a network.
Result<void> teardown_pod_network(const std::string& pod_dir);
/// What pod_dir/net-info.json records (for podrt status and list).
Result<std::vector<NetworkAttachment>> read_pod_network(const std::string& pod_dir);

}  // namespace podrt::stage1::network
