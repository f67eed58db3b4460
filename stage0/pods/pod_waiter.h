// Waiting for a running pod to exit: its stage1 holds an exclusive flock on the pod directory
// for the pod's life, so a shared lock succeeds exactly when the pod has exited (rkt's way).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace podrt::pods {

/// Waits up to `timeout_seconds` (negative: forever) for the pod at `pod_path` to exit.
/// True when it has exited, false on timeout.
Result<bool> wait_for_exit(const std::string& pod_path, int64_t timeout_seconds);

}  // namespace podrt::pods
