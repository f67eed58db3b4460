// Holding a forwarded host port for a pod's life: a socket bound on it, so that another pod
// (or any program) asking for it fails up front instead of silently losing its traffic.
#pragma once

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-ns/network/pod_network.h"

namespace podrt::stage1::network {

/// Binds (and for tcp, listens on) forward.host_port on its host_ip or on every address.
/// A taken port fails with "port 8080/tcp is already in use".
Result<UniqueFd> reserve_host_port(const PortForward& forward);

}  // namespace podrt::stage1::network
