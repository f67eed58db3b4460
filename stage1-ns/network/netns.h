// Named network namespaces, made the way `ip netns add` makes them: a namespace kept alive by
// a bind mount of its nsfs file, so it outlives the process that created it.
#pragma once

#include <string>

#include "common/result.h"

namespace podrt::stage1::network {

/// Where podrt keeps its pods' namespaces (beside, not inside, iproute2's /run/netns).
inline constexpr const char* kNetnsDir = "/run/podrt/netns";

/// /run/podrt/netns/<pod_uuid>
std::string netns_path_for(const std::string& pod_uuid);

/// Creates a new network namespace bind-mounted at `path` (which must not exist yet).
Result<void> create_netns(const std::string& path);
/// Unmounts and removes it; a missing one is fine.
Result<void> remove_netns(const std::string& path);

}  // namespace podrt::stage1::network
