// Each app's seccomp filter compiled once on the host and cached by policy: libseccomp takes
// about 8 ms to compile Docker's ~300-syscall allow-list natively (several times that in a TCG
// guest), which every pod start paid in the app's process before. The pod init and guest-init
// load the cached program as is (supervisor::AppSpec::seccomp_bpf).
#pragma once

#include <string>

#include "common/result.h"
#include "common/supervisor/pod_plan.h"

namespace podrt::stage1 {

/// `policy` as BPF, from `cache_dir`/<hash>.bpf or compiled now and saved there (a cache that
/// cannot be written only costs the compile). Empty for a policy that filters nothing.
Result<std::string> compiled_seccomp(const supervisor::SeccompPolicy& policy,
                                     const std::string& cache_dir);

}  // namespace podrt::stage1
