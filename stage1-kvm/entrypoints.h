// stage1-kvm's entrypoints: the same contract as stage1-ns (docs/stage1-contract.md).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/hypervisor.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1_kvm {

/// The pod directory's record of the hypervisor process (`pid` is stage1-kvm's own: the
/// process to signal for a clean stop).
inline constexpr std::string_view kHypervisorPidFile = "stage1/hypervisor-pid";
/// The tail of the guest's serial console, saved when the pod ends.
inline constexpr std::string_view kConsoleLogFile = "stage1/console.log";

struct KvmRunOptions {
  stage1::RunOptions pod;
  std::string hypervisor = "qemu";               ///< resolved by stage0 from --hypervisor
  Acceleration acceleration = Acceleration::kTcg;
};

Result<int> run_pod(const KvmRunOptions& options);
Result<int> stop_pod(const std::string& uuid, bool force);
Result<int> gc_pod(const std::string& uuid, const std::string& data_dir);
Result<int> enter_pod(const std::string& uuid, const std::string& app,
                      const std::vector<std::string>& command);

}  // namespace podrt::stage1_kvm
