#include "guest-init/network_setup.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/unique_fd.h"

namespace podrt::guest_init {
namespace {

constexpr const char* kInterface = "eth0";

sockaddr ipv4_sockaddr(in_addr address) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr = address;
  sockaddr out{};
  std::memcpy(&out, &in, sizeof in);
  return out;
}

ifreq request_for(const char* name) {
  ifreq request{};
  std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  return request;
}

Result<void> interface_ioctl(int socket, unsigned long command, ifreq& request,
                             const std::string& what) {
  if (::ioctl(socket, command, &request) != 0)
    return Error::from_errno(what + " of " + request.ifr_name);
  return ok();
}

Result<void> bring_up(int socket, const char* name) {
  ifreq request = request_for(name);
  PODRT_TRY(interface_ioctl(socket, SIOCGIFFLAGS, request, "read the flags"));
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  return interface_ioctl(socket, SIOCSIFFLAGS, request, "bring up");
}

// SIOCADDRT / SIOCDELRT of `destination`/`mask` on eth0, through `gateway` or on the link.
Result<void> change_route(int socket, unsigned long command, in_addr destination, in_addr mask,
                          std::optional<in_addr> gateway, const std::string& what) {
  rtentry route{};
  route.rt_dst = ipv4_sockaddr(destination);
  route.rt_genmask = ipv4_sockaddr(mask);
  route.rt_flags = RTF_UP;
  if (gateway) {
    route.rt_gateway = ipv4_sockaddr(*gateway);
    route.rt_flags |= RTF_GATEWAY;
  }
  if (mask.s_addr == INADDR_BROADCAST) route.rt_flags |= RTF_HOST;
  char device[IFNAMSIZ];
  std::strncpy(device, kInterface, sizeof device);
  route.rt_dev = device;
  if (::ioctl(socket, command, &route) != 0) return Error::from_errno(what);
  return ok();
}

Result<void> configure_eth0(int socket, const guest_protocol::GuestNetwork& network) {
  in_addr address = PODRT_TRY(parse_ipv4(network.address, "network address"));
  if (network.prefix_length > 32)
    return Error::invalid("network prefix length " + std::to_string(network.prefix_length) +
                          " is over 32");
  std::optional<in_addr> gateway;
  if (!network.gateway.empty()) gateway = PODRT_TRY(parse_ipv4(network.gateway, "gateway"));

  ifreq request = request_for(kInterface);
  request.ifr_addr = ipv4_sockaddr(address);
  PODRT_TRY(interface_ioctl(socket, SIOCSIFADDR, request, "set the address " + network.address));
  request = request_for(kInterface);
  request.ifr_netmask = ipv4_sockaddr(netmask_for_prefix(network.prefix_length));
  PODRT_TRY(interface_ioctl(socket, SIOCSIFNETMASK, request,
                            "set the prefix length " + std::to_string(network.prefix_length)));
  request = request_for(kInterface);
  request.ifr_mtu = static_cast<int>(network.mtu);
  PODRT_TRY(interface_ioctl(socket, SIOCSIFMTU, request,
                            "set the MTU " + std::to_string(network.mtu)));
  PODRT_TRY(bring_up(socket, kInterface));
  if (!gateway) return ok();

  if (network.subnet_via_gateway) {
    // As CNI ptp lays out a netns: only the gateway is on the link; the rest of the subnet
    // (the other pods) is reached through it.
    in_addr mask = netmask_for_prefix(network.prefix_length);
    in_addr subnet{address.s_addr & mask.s_addr};
    PODRT_TRY(change_route(socket, SIOCDELRT, subnet, mask, std::nullopt, "remove the on-link subnet route"));
    PODRT_TRY(change_route(socket, SIOCADDRT, *gateway, netmask_for_prefix(32), std::nullopt,
                           "add the route to the gateway " + network.gateway));
    PODRT_TRY(change_route(socket, SIOCADDRT, subnet, mask, gateway,
                           "route the subnet via " + network.gateway));
  }
  return change_route(socket, SIOCADDRT, in_addr{INADDR_ANY}, in_addr{INADDR_ANY}, gateway,
                      "add the default route via " + network.gateway);
}

}  // namespace

Result<in_addr> parse_ipv4(const std::string& text, const std::string& what) {
  in_addr address{};
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1)
    return Error::invalid(what + " \"" + text + "\" is not an IPv4 address");
  return address;
}

in_addr netmask_for_prefix(uint32_t prefix_length) {
  uint32_t bits = prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - std::min(prefix_length, 32u));
  return in_addr{htonl(bits)};
}

Result<void> set_up_network(const std::optional<guest_protocol::GuestNetwork>& network) {
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket) return Error::from_errno("open a socket to configure the network");
  PODRT_TRY(bring_up(socket.get(), "lo"));
  if (network) PODRT_TRY_CONTEXT(configure_eth0(socket.get(), *network), "network");
  return ok();
}

}  // namespace podrt::guest_init
