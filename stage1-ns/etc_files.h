// The files stage1 writes for a pod's /etc: hosts, resolv.conf and hostname (rkt's
// Documentation/networking/dns.md precedence: flags, then what CNI returned, then the image's).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "stage1-ns/network/pod_network.h"
#include "stage1-ns/rootfs/app_rootfs.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1 {

/// Writes the files into `etc_dir` and returns the binds that put them in every app.
Result<std::vector<rootfs::BindSpec>> write_etc_files(const std::string& etc_dir,
                                                      const std::string& hostname,
                                                      const RunOptions& options,
                                                      const network::PodNetwork& network);

}  // namespace podrt::stage1
