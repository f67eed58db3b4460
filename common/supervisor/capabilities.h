// Linux capabilities by name ("CAP_CHOWN") and how an app's sets are reduced before exec.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace podrt::supervisor {

/// "CAP_CHOWN" -> 0. Only the upper-case CAP_ form is accepted, as appc writes it.
Result<int> capability_from_name(std::string_view name);
/// 0 -> "CAP_CHOWN"; numbers libcap has no name for come back as "CAP_<n>".
std::string capability_name(int capability);

/// appc's default capability set (rkt's), for stage1 to use when an app names none.
const std::vector<std::string>& default_capabilities();

/// Drops every capability not in `keep` from the bounding set and clears the ambient set.
/// Call while still privileged (needs CAP_SETPCAP), before setuid.
Result<void> drop_bounding_set(const std::vector<int>& keep);
/// After setuid: a root app keeps exactly `keep` as permitted, effective and inheritable;
/// any other app ends with empty sets.
Result<void> set_process_capabilities(const std::vector<int>& keep, bool is_root);
/// Whether the calling process has `capability` in its effective set.
bool has_effective_capability(int capability);

}  // namespace podrt::supervisor
