// stage1-ns's entrypoints (docs/stage1-contract.md), each run by stage0 in the pod directory.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1 {

/// run: start the pod and wait for it; returns the pod's exit code.
Result<int> run_pod(const RunOptions& options);
/// enter: run `command` in an app of the running pod; returns its exit code.
Result<int> enter_pod(const std::string& uuid, const std::string& app,
                      const std::vector<std::string>& command);
/// stop: SIGTERM (or SIGKILL) to the pod's PID 1; returns at once.
Result<int> stop_pod(const std::string& uuid, bool force);
/// gc: remove what an exited pod left on the host (network, cgroups); idempotent.
Result<int> gc_pod(const std::string& uuid, const std::string& data_dir);

}  // namespace podrt::stage1
