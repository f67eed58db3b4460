#include "stage1-ns/pod_services.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "common/supervisor/supervisor.h"
#include "common/sys/file.h"

namespace podrt::stage1 {

Result<LoadedPod> take_pod_to_run(const RunOptions& options) {
  const char* lock_fd = ::getenv("PODRT_LOCK_FD");
  if (lock_fd == nullptr) return Error::invalid("PODRT_LOCK_FD is not set: run pods with podrt run");
  int fd = std::atoi(lock_fd);
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0)
    return Error::from_errno("set close-on-exec on the pod lock (fd " + std::to_string(fd) + ")");
  ::unsetenv("PODRT_LOCK_FD");
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return Error::from_errno("getcwd");
  LoadedPod pod = PODRT_TRY(load_pod(cwd, options.data_dir, options.uuid));
  if (options.interactive && pod.apps.size() != 1)
    return Error::invalid("--interactive needs a pod with exactly one app");
  return pod;
}

network::NetworkOptions pod_network_options(const LoadedPod& pod, const RunOptions& options) {
  network::NetworkOptions net_options;
  net_options.networks = options.networks.empty() ? std::vector<std::string>{"default"} : options.networks;
  net_options.ports = port_forwards(pod);
  net_options.data_dir = options.data_dir;
  net_options.pod_dir = pod.dir;
  net_options.pod_uuid = pod.uuid;
  return net_options;
}

std::optional<std::string> metadata_address(const network::PodNetwork& net) {
  if (net.host) return "127.0.0.1";
  if (!net.attachments.empty() && !net.attachments[0].gateway.empty())
    return net.attachments[0].gateway;
  return std::nullopt;
}

Result<MetadataService> start_metadata(const LoadedPod& pod, const std::string& address) {
  metadata::PodMetadata content;
  content.uuid = pod.uuid;
  content.pod_manifest_json = pod.manifest_text;
  content.annotations_json = appc::annotations_to_json(pod.manifest.annotations).dump();
  for (const LoadedApp& app : pod.apps)
    content.apps[app.pod_app.name] = {app.pod_app.image.id, app.image.to_json().dump(),
                                      appc::annotations_to_json(app.pod_app.annotations).dump()};
  return MetadataService::start(sys::own_directory() + "/podrt-metadata-service", address, content,
                                pod.data_dir + "/metadata/identity.key");
}

std::vector<network::PortForward> port_forwards(const LoadedPod& pod) {
  std::vector<network::PortForward> forwards;
  for (const appc::ExposedPort& exposed : pod.manifest.ports) {
    network::PortForward forward;
    forward.name = exposed.name;
    forward.host_port = exposed.host_port;
    if (exposed.host_ip) forward.host_ip.emplace(*exposed.host_ip);  // (GCC 12 warns on optional = optional here)
    for (const LoadedApp& app : pod.apps)
      for (const appc::Port& port : app.app.ports)
        if (port.name == exposed.name) {
          forward.pod_port = port.port;
          forward.protocol = port.protocol;
        }
    if (exposed.pod_port) {
      forward.pod_port = exposed.pod_port->port;
      forward.protocol = exposed.pod_port->protocol;
    }
    forwards.push_back(std::move(forward));
  }
  return forwards;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return supervisor::kExitPodrtFailure;
}

}  // namespace podrt::stage1
