// stage1-kvm's stop and gc entrypoints.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage1-kvm/entrypoints.h"
#include "stage1-ns/network/pod_network.h"

namespace podrt::stage1_kvm {
namespace {

Result<pid_t> read_pid(std::string_view file) {
  std::string text = PODRT_TRY(sys::read_file(std::string(file)));
  long pid = std::strtol(text.c_str(), nullptr, 10);
  if (pid <= 1) return Error::invalid(std::string(file) + " is corrupt");
  return static_cast<pid_t>(pid);
}

/// The hypervisor of pod `uuid`, if it still runs: the pid must name a process whose command
/// line carries the pod's VM name (a recycled pid is left alone).
std::optional<pid_t> live_hypervisor(const std::string& uuid) {
  auto pid = read_pid(kHypervisorPidFile);
  if (!pid) return std::nullopt;
  auto cmdline = sys::read_file("/proc/" + std::to_string(*pid) + "/cmdline");
  if (!cmdline || cmdline->find("podrt-" + uuid) == std::string::npos) return std::nullopt;
  return *pid;
}

}  // namespace

Result<int> stop_pod(const std::string& uuid, bool force) {
  if (force) {
    // The VM ends at once; stage1 sees it go and ends the pod with 137.
    if (auto hypervisor = live_hypervisor(uuid)) {
      if (::kill(*hypervisor, SIGKILL) != 0 && errno != ESRCH)
        return Error::from_errno("kill the VM of pod " + uuid);
      return 0;
    }
  }
  // stage1 forwards SIGTERM to guest-init, whose supervisor stops the apps.
  pid_t pid = PODRT_TRY_CONTEXT(read_pid(pods::kPidFile), "stop pod " + uuid);
  if (::kill(pid, force ? SIGKILL : SIGTERM) != 0 && errno != ESRCH)
    return Error::from_errno("signal pod " + uuid);
  return 0;
}

Result<int> gc_pod(const std::string& uuid, const std::string& data_dir) {
  (void)data_dir;
  // A stage1 killed with SIGKILL takes its VM along (PR_SET_PDEATHSIG); this is for the rest.
  if (auto hypervisor = live_hypervisor(uuid)) ::kill(*hypervisor, SIGKILL);
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return Error::from_errno("getcwd");
  PODRT_TRY_CONTEXT(stage1::network::teardown_pod_network(cwd), "gc pod " + uuid);
  return 0;
}


}  // namespace podrt::stage1_kvm
