#include "stage1-ns/pod_services.h"

#include <sys/wait.h>

#include "common/supervisor/supervisor.h"

namespace podrt::stage1 {

std::optional<std::string> metadata_address(const network::PodNetwork& net) {
  if (net.host) return "127.0.0.1";
  if (!net.attachments.empty() && !net.attachments[0].gateway.empty())
    return net.attachments[0].gateway;
  return std::nullopt;
}

Result<std::unique_ptr<metadata::MetadataServer>> start_metadata(const LoadedPod& pod,
                                                                 const std::string& address) {
  metadata::PodMetadata content;
  content.uuid = pod.uuid;
  content.pod_manifest_json = pod.manifest_text;
  content.annotations_json = appc::annotations_to_json(pod.manifest.annotations).dump();
  for (const LoadedApp& app : pod.apps)
    content.apps[app.pod_app.name] = {app.pod_app.image.id, app.image.to_json().dump(),
                                      appc::annotations_to_json(app.pod_app.annotations).dump()};
  metadata::IdentityKey key =
      PODRT_TRY(metadata::IdentityKey::load_or_create(pod.data_dir + "/metadata/identity.key"));
  return metadata::MetadataServer::start(address, 0, std::move(content), std::move(key));
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
