// The guest's network: loopback, and eth0 as the host's pod network assigned it. A handful of
// SIOCS* ioctls do it (as busybox ifconfig and route do), so guest-init needs no netlink.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/guest_protocol/guest_config.h"
#include "common/result.h"

namespace podrt::guest_init {

/// "172.16.28.5" -> the address in network byte order; an error for anything else.
Result<in_addr> parse_ipv4(const std::string& text, const std::string& what);
/// 24 -> 255.255.255.0 (network byte order); prefix must be 0..32.
in_addr netmask_for_prefix(uint32_t prefix_length);

/// Brings `lo` up (the kernel then gives it 127.0.0.1/8) and, when `network` is set,
/// configures eth0: address, netmask, MTU, up, and the default route via the gateway.
Result<void> set_up_network(const std::optional<guest_protocol::GuestNetwork>& network);

}  // namespace podrt::guest_init
