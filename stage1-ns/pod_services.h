// What a pod gets from its stage1 whatever isolates it, shared by stage1-ns and stage1-kvm:
// the port forwards its manifest asks for, the per-pod metadata service, and the exit code
// of a waited-for process as rkt reports it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "stage1-ns/loaded_pod.h"
#include "stage1-ns/metadata_service.h"
#include "stage1-ns/network/pod_network.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1 {

/// The start of every run entrypoint: keeps stage0's pod lock (PODRT_LOCK_FD) for this
/// process's life without letting it leak into the pod (the lock means "running"), and loads
/// the pod from the working directory (the pod directory).
Result<LoadedPod> take_pod_to_run(const RunOptions& options);

/// What the pod's --net entries (default: "default") and exposed ports ask of CNI.
network::NetworkOptions pod_network_options(const LoadedPod& pod, const RunOptions& options);

/// The pod manifest's exposed ports, matched to the apps' ports.
std::vector<network::PortForward> port_forwards(const LoadedPod& pod);

/// The metadata service listens where the pod can reach it: its first network's host side,
/// or loopback with the host's network; nullopt without a network.
std::optional<std::string> metadata_address(const network::PodNetwork& net);

/// Starts the pod's metadata service (podrt-metadata-service, beside stage1's own binary) on
/// `address` (an ephemeral port).
Result<MetadataService> start_metadata(const LoadedPod& pod, const std::string& address);

/// A waitpid status as an exit code: the code, 128+N for signal N, else 254.
int exit_code_of(int status);

}  // namespace podrt::stage1
