// MetadataService: a pod's appc metadata service, run as the podrt-metadata-service process
// (common/metadata/service/main.cc) next to stage1, so that stage1 itself - which lives as long
// as the pod - maps no HTTP, TLS or crypto library: a pod without a network never pays for
// them. The process dies with stage1 (PR_SET_PDEATHSIG) and is stopped and reaped when this
// object goes.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/metadata/pod_metadata.h"
#include "common/result.h"

namespace podrt::stage1 {

class MetadataService {
 public:
  /// Starts `binary` listening on `listen_ip` (an ephemeral port) and waits for its URL. Its
  /// errors reach stage1's stderr; this one says that it did not start.
  static Result<MetadataService> start(const std::string& binary, const std::string& listen_ip,
                                       const metadata::PodMetadata& pod, const std::string& identity_key);

  MetadataService(const MetadataService&) = delete;
  MetadataService& operator=(const MetadataService&) = delete;
  MetadataService(MetadataService&& other) noexcept;
  MetadataService& operator=(MetadataService&& other) noexcept;
  ~MetadataService();

  /// The value of AC_METADATA_URL.
  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }

 private:
  MetadataService(pid_t pid, std::string url) : pid_(pid), url_(std::move(url)) {}
  void stop();
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace podrt::stage1
