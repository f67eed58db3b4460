// stage1-ns's stop and gc entrypoints.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/cgroups/cgroup.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage1-ns/entrypoints.h"
#include "stage1-ns/network/pod_network.h"

namespace podrt::stage1 {
namespace {

Result<pid_t> pod_pid() {
  std::string text = PODRT_TRY(sys::read_file(std::string(pods::kPidFile)));
  long pid = std::strtol(text.c_str(), nullptr, 10);
  if (pid <= 1) return Error::invalid("the pod's pid file is corrupt");
  return static_cast<pid_t>(pid);
}

}  // namespace

Result<int> stop_pod(const std::string& uuid, bool force) {
  pid_t pid = PODRT_TRY_CONTEXT(pod_pid(), "stop pod " + uuid);
  // The pod init forwards SIGTERM to the apps and kills what is left after its timeout;
  // SIGKILL to a pid namespace's init kills every process in it.
  if (::kill(pid, force ? SIGKILL : SIGTERM) != 0 && errno != ESRCH)
    return Error::from_errno("signal pod " + uuid);
  return 0;
}

Result<int> gc_pod(const std::string& uuid, const std::string& data_dir) {
  (void)data_dir;  // everything the pod made is recorded in its own directory
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return Error::from_errno("getcwd");
  PODRT_TRY_CONTEXT(network::teardown_pod_network(cwd), "gc pod " + uuid);
  if (auto listed = sys::read_file(std::string(pods::kCgroupsFile))) {
    std::vector<std::string> directories;
    std::istringstream lines(*listed);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) directories.push_back(line);
    PODRT_TRY_CONTEXT(cgroups::Cgroup::adopt(directories).destroy(), "gc pod " + uuid);
  }
  return 0;
}

}  // namespace podrt::stage1
