// A hypervisor that runs as a child process of stage1 (QEMU, podrt-vmm): started with the VM's
// fds inherited by number, killed with stage1 (PR_SET_PDEATHSIG), reaped by RunningVm.
#pragma once

#include <string>
#include <vector>

#include "stage1-kvm/hypervisor.h"

namespace podrt::stage1_kvm {

/// Forks and execs argv[0] with `spec`'s control, console and tap fds kept open, stdin and
/// stdout on /dev/null and stderr on spec.stderr_fd.
Result<std::unique_ptr<RunningVm>> start_hypervisor_process(const std::vector<std::string>& argv,
                                                            const VmSpec& spec);

}  // namespace podrt::stage1_kvm
