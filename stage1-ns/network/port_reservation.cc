#include "stage1-ns/network/port_reservation.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace podrt::stage1::network {

Result<UniqueFd> reserve_host_port(const PortForward& forward) {
  std::string what = "port " + std::to_string(forward.host_port) + "/" + forward.protocol;
  if (forward.host_ip) what += " on " + *forward.host_ip;
  bool tcp = forward.protocol == "tcp";
  if (!tcp && forward.protocol != "udp")
    return Error::invalid(what + ": protocol must be tcp or udp");
  if (forward.host_port == 0 || forward.pod_port == 0)
    return Error::invalid(what + ": port 0 cannot be forwarded");

  sockaddr_storage address = {};
  socklen_t length = 0;
  int family = AF_INET;
  std::string ip = forward.host_ip.value_or("0.0.0.0");
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(forward.host_port);
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(forward.host_port);
    length = sizeof *v6;
  } else {
    return Error::invalid(what + ": \"" + ip + "\" is not an IP address");
  }

  UniqueFd socket(::socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!socket) return Error::from_errno("reserve " + what + ": socket");
  if (tcp) {
    // Lets the port be taken while old connections sit in TIME_WAIT; a live listener on it
    // still makes bind fail. (For udp, SO_REUSEADDR would let two binds share the port.)
    int one = 1;
    ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    if (errno == EADDRINUSE) return Error::invalid(what + " is already in use");
    return Error::from_errno("reserve " + what);
  }
  // Listening makes a later SO_REUSEADDR bind by someone else fail as well. Packets for the
  // port are DNATed to the pod before they could reach this socket.
  if (tcp && ::listen(socket.get(), 1) != 0) {
    if (errno == EADDRINUSE) return Error::invalid(what + " is already in use");
    return Error::from_errno("reserve " + what);
  }
  return socket;
}

}  // namespace podrt::stage1::network
