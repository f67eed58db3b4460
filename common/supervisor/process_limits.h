// Per-process resource settings an app gets before exec: setrlimit(2) and the OOM score.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/supervisor/pod_plan.h"

namespace podrt::supervisor {

/// "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
Result<int> rlimit_resource_from_name(std::string_view name);
/// setrlimit for each limit, in order.
Result<void> apply_rlimits(const std::vector<ResourceLimit>& limits);
/// Writes /proc/self/oom_score_adj (so call it while /proc is still visible, before chroot).
Result<void> set_oom_score_adj(int score);

}  // namespace podrt::supervisor
