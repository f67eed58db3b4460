#include "stage1-ns/network/pod_network.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/scope_exit.h"
#include "common/sys/file.h"
#include "stage1-ns/network/cni_plugin.h"
#include "stage1-ns/network/net_info.h"
#include "stage1-ns/network/netns.h"
#include "stage1-ns/network/network_config.h"
#include "stage1-ns/network/port_reservation.h"

namespace podrt::stage1::network {
namespace {

using nlohmann::json;

/// "172.16.28.5/24" -> "172.16.28.0/24" (IPv4 or IPv6); empty when unreadable.
std::string subnet_of(const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return "";
  std::string ip = cidr.substr(0, slash);
  int prefix = std::atoi(cidr.c_str() + slash + 1);
  unsigned char bytes[16] = {};
  int family = ip.find(':') == std::string::npos ? AF_INET : AF_INET6;
  int size = family == AF_INET ? 4 : 16;
  if (::inet_pton(family, ip.c_str(), bytes) != 1 || prefix < 0 || prefix > size * 8) return "";
  for (int bit = prefix; bit < size * 8; ++bit) bytes[bit / 8] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes, text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

/// The pod-side address of `ifname` in a CNI result (1.0.0 and 0.3/0.4 "ips" alike).
NetworkAttachment attachment_from(const NetInfoEntry& entry, const json& result) {
  NetworkAttachment attachment{entry.network, entry.ifname, "", "", ""};
  if (!result.contains("ips") || !result["ips"].is_array()) return attachment;
  const json* chosen = nullptr;
  for (const auto& ip : result["ips"]) {
    if (!ip.is_object() || !ip.contains("address")) continue;
    if (!chosen) chosen = &ip;
    if (ip.contains("interface") && ip["interface"].is_number_unsigned()) {
      size_t index = ip["interface"];
      const json& interfaces = result.value("interfaces", json::array());
      if (index < interfaces.size() && interfaces[index].value("name", "") == entry.ifname) {
        chosen = &ip;
        break;
      }
    }
  }
  if (!chosen) return attachment;
  std::string cidr = chosen->value("address", "");
  attachment.ip = cidr.substr(0, cidr.find('/'));
  attachment.gateway = chosen->value("gateway", "");
  attachment.subnet = subnet_of(cidr);
  return attachment;
}

void add_unique(std::vector<std::string>& list, const json& values) {
  if (!values.is_array()) return;
  for (const auto& value : values) {
    if (!value.is_string()) continue;
    std::string text = value;
    if (std::find(list.begin(), list.end(), text) == list.end()) list.push_back(text);
  }
}

CniCall call_for(const NetInfo& info, const NetInfoEntry& entry, const std::string& command) {
  CniCall call;
  call.command = command;
  call.container_id = info.container_id;
  call.netns = info.netns;
  call.ifname = entry.ifname;
  call.args = entry.cni_args;
  call.plugin_dirs = info.plugin_dirs;
  return call;
}

/// The chained plugins after the first get the chain's result so far (CNI chaining).
json chained_config(const NetInfoEntry& entry, size_t index, const json& previous) {
  json config = entry.plugins[index];
  if (index > 0 && !previous.is_null()) config["prevResult"] = previous;
  return config;
}

std::string failure_context(const NetInfoEntry& entry) {
  return entry.loopback ? "loopback" : "network " + entry.network;
}

/// Runs DEL for every entry, last first, and every plugin of a chain, last first. Keeps going
/// past a failure so as much as possible is undone; returns the first error.
Result<void> delete_all(const NetInfo& info) {
  std::optional<Error> first_error;
  for (auto entry = info.entries.rbegin(); entry != info.entries.rend(); ++entry) {
    for (size_t i = entry->plugins.size(); i-- > 0;) {
      auto deleted = run_cni_plugin(chained_config(*entry, i, entry->result),
                                    call_for(info, *entry, "DEL"));
      // An entry whose ADD never succeeded gets a DEL too (it may have been killed half-way),
      // but its failure does not count: a config its plugin rejects would otherwise block
      // teardown forever.
      if (!deleted && !first_error && !entry->result.is_null())
        first_error = std::move(deleted).error().with_context(failure_context(*entry) + ": DEL");
    }
  }
  if (first_error) return std::move(*first_error);
  return ok();
}

/// DEL everything, then drop the namespace. A failed DEL keeps the namespace so that a retry
/// (gc) can still find the interfaces and the rules the plugin derives from them.
Result<void> undo(const NetInfo& info) {
  if (info.host || info.netns.empty()) return ok();
  PODRT_TRY(delete_all(info));
  return remove_netns(info.netns);
}

json port_mappings(const std::vector<PortForward>& ports) {
  json mappings = json::array();
  for (const auto& port : ports) {
    json mapping = {{"hostPort", port.host_port},
                    {"containerPort", port.pod_port},
                    {"protocol", port.protocol}};
    if (port.host_ip) mapping["hostIP"] = *port.host_ip;
    mappings.push_back(std::move(mapping));
  }
  return mappings;
}

/// Port forwards go to the first network with ipMasq, else the last (as rkt's portfwd did).
size_t port_forward_target(const std::vector<PlannedNetwork>& networks) {
  for (size_t i = 0; i < networks.size(); ++i) {
    const json& masq = networks[i].config.value("ipMasq", json(false));
    if (masq.is_boolean() && masq.get<bool>()) return i;
  }
  return networks.size() - 1;
}

json portmap_config(const json& network, const std::vector<PortForward>& ports) {
  // snat makes 127.0.0.1:<hostport> and hairpin traffic work: portmap masquerades it and sets
  // route_localnet on the pod's host-side interface.
  return {{"cniVersion", network.value("cniVersion", std::string(kCniVersion))},
          {"name", network.value("name", std::string())},
          {"type", "portmap"},
          {"snat", true},
          {"capabilities", {{"portMappings", true}}},
          {"runtimeConfig", {{"portMappings", port_mappings(ports)}}}};
}

}  // namespace

Result<PodNetwork> setup_pod_network(const NetworkOptions& options) {
  if (options.pod_uuid.empty() || options.pod_uuid.find('/') != std::string::npos)
    return Error::invalid("set up pod network: invalid pod uuid \"" + options.pod_uuid + "\"");
  if (options.pod_dir.empty() || options.data_dir.empty())
    return Error::invalid("set up pod network: pod and data directories are required");
  // Overwriting a live record would lose what teardown has to undo.
  auto previous = PODRT_TRY_CONTEXT(read_net_info(options.pod_dir), "set up pod network");
  if (previous && !previous->torn_down)
    return Error::invalid("set up pod network: the pod's network is already set up");
  NetworkPlan plan = PODRT_TRY(plan_networks(options.networks, options.data_dir));

  PodNetwork network;
  NetInfo info;
  info.container_id = options.pod_uuid;
  info.plugin_dirs = {options.cni_plugin_dir, options.data_dir + "/net.d"};
  if (plan.host) {
    if (!options.ports.empty())
      return Error::invalid("port forwarding needs a contained network, not --net=host");
    network.host = true;
    info.host = true;
    PODRT_TRY(write_net_info(options.pod_dir, info));
    return network;
  }
  if (!options.ports.empty() && plan.networks.empty())
    return Error::invalid("port forwarding needs a contained network, not --net=none");

  // Ports first: a taken port fails before anything exists that would need undoing.
  for (const auto& port : options.ports)
    network.port_reservations.push_back(PODRT_TRY(reserve_host_port(port)));

  info.netns = netns_path_for(options.pod_uuid);
  if (sys::path_exists(info.netns))
    return Error::invalid("set up pod network: " + info.netns + " already exists");
  info.entries.push_back({"loopback", "lo", "", true,
                          {{{"cniVersion", kCniVersion}, {"name", "loopback"}, {"type", "loopback"}}},
                          nullptr, {}});
  size_t target = plan.networks.empty() ? 0 : port_forward_target(plan.networks);
  for (size_t i = 0; i < plan.networks.size(); ++i) {
    const auto& planned = plan.networks[i];
    NetInfoEntry entry{planned.name, "eth" + std::to_string(i), planned.cni_args, false,
                       {planned.config}, nullptr, {}};
    if (i == target && !options.ports.empty())
      entry.plugins.push_back(portmap_config(planned.config, options.ports));
    info.entries.push_back(std::move(entry));
  }

  // Recorded before anything is created, so teardown can always find it.
  PODRT_TRY(write_net_info(options.pod_dir, info));
  ScopeExit undo_on_failure([&] {
    if (undo(info)) ::unlink(net_info_path(options.pod_dir).c_str());
  });
  PODRT_TRY(create_netns(info.netns));

  for (auto& entry : info.entries) {
    json result;
    for (size_t i = 0; i < entry.plugins.size(); ++i) {
      result = PODRT_TRY_CONTEXT(run_cni_plugin(chained_config(entry, i, result),
                                                call_for(info, entry, "ADD")),
                                 failure_context(entry));
      if (i == 0) {
        // The chain's first result is what teardown needs; record it before going on.
        entry.result = result;
        if (!entry.loopback) entry.attachment = attachment_from(entry, result);
        PODRT_TRY(write_net_info(options.pod_dir, info));
      }
    }
    if (entry.loopback) continue;
    network.attachments.push_back(entry.attachment);
    if (result.contains("dns") && result["dns"].is_object()) {
      add_unique(network.dns_servers, result["dns"].value("nameservers", json()));
      add_unique(network.dns_search, result["dns"].value("search", json()));
      add_unique(network.dns_options, result["dns"].value("options", json()));
    }
  }
  undo_on_failure.dismiss();
  network.netns_path = info.netns;
  return network;
}

Result<void> teardown_pod_network(const std::string& pod_dir) {
  auto info = PODRT_TRY_CONTEXT(read_net_info(pod_dir), "tear down pod network");
  if (!info || info->torn_down) return ok();
  PODRT_TRY_CONTEXT(undo(*info), "tear down pod network");
  // Kept (marked) rather than removed: status can still say which networks the pod had.
  info->torn_down = true;
  return write_net_info(pod_dir, *info);
}

Result<std::vector<NetworkAttachment>> read_pod_network(const std::string& pod_dir) {
  auto info = PODRT_TRY(read_net_info(pod_dir));
  std::vector<NetworkAttachment> attachments;
  if (!info) return attachments;
  for (const auto& entry : info->entries)
    if (!entry.loopback && !entry.result.is_null()) attachments.push_back(entry.attachment);
  return attachments;
}

}  // namespace podrt::stage1::network
