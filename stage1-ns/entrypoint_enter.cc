// stage1-ns's enter entrypoint: join the namespaces of the pod's PID 1, take its root, and
// start the command the way the supervisor starts the app (same user, env, caps, seccomp).
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "common/supervisor/supervisor.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage1-ns/entrypoints.h"
#include "stage1-ns/user_namespace.h"

namespace podrt::stage1 {

Result<int> enter_pod(const std::string& uuid, const std::string& app_name,
                      const std::vector<std::string>& command) {
  std::string pid_text = PODRT_TRY_CONTEXT(sys::read_file(std::string(pods::kPidFile)), "enter pod " + uuid);
  std::string proc = "/proc/" + std::to_string(std::atol(pid_text.c_str()));
  std::string plan_text = PODRT_TRY(sys::read_file(std::string(pods::kPlanFile)));
  supervisor::PodPlan plan = PODRT_TRY(supervisor::parse_pod_plan(plan_text));
  const supervisor::AppSpec* app = nullptr;
  if (app_name.empty()) {
    if (plan.apps.size() != 1) return Error::invalid("pod " + uuid + " has several apps: give --app");
    app = &plan.apps[0];
  } else {
    for (const supervisor::AppSpec& candidate : plan.apps)
      if (candidate.name == app_name) app = &candidate;
    if (app == nullptr) return Error::invalid("pod " + uuid + " has no app " + app_name);
  }

  UniqueFd root = PODRT_TRY(sys::open_file(proc + "/root", O_RDONLY | O_DIRECTORY));
  // The mount namespace last: the other /proc/<pid>/ns files must be opened before we leave
  // the host's mounts.
  std::vector<std::pair<UniqueFd, int>> namespaces;
  for (const auto& [name, type] : {std::pair{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
                                   {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID},
                                   {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS}})
    namespaces.emplace_back(PODRT_TRY(sys::open_file(proc + "/ns/" + name, O_RDONLY)), type);
  // A --private-users pod's user namespace comes after the others (they belong to the host's,
  // so joining them needs our host capabilities), before chroot (setns refuses a chrooted
  // caller): the command must never run as real root among the pod's files.
  UniqueFd userns = PODRT_TRY(sys::open_file(proc + "/ns/user", O_RDONLY));
  struct stat pod_userns, own_userns;
  if (::fstat(userns.get(), &pod_userns) != 0 || ::stat("/proc/self/ns/user", &own_userns) != 0)
    return Error::from_errno("enter pod " + uuid + ": compare user namespaces");
  for (const auto& [fd, type] : namespaces)
    if (::setns(fd.get(), type) != 0) return Error::from_errno("enter pod " + uuid + ": setns");
  supervisor::AppSpec spec = *app;
  if (pod_userns.st_ino != own_userns.st_ino || pod_userns.st_dev != own_userns.st_dev) {
    // Into the app's cgroups first, as real root (the pod's paths resolve already: joining the
    // mount namespace made its root ours): cgroup v2 moves a process only for a writer of the
    // common ancestor's cgroup.procs, here the host's, which the pod's root may not write.
    for (const std::string& procs : spec.cgroup_procs_files) {
      UniqueFd file = PODRT_TRY_CONTEXT(sys::open_file(procs, O_WRONLY), "enter pod " + uuid);
      if (::write(file.get(), "0", 1) != 1) return Error::from_errno("enter pod " + uuid + ": join " + procs);
    }
    spec.cgroup_procs_files.clear();
    PODRT_TRY_CONTEXT(join_as_root(userns.get()), "enter pod " + uuid);
  }
  if (::fchdir(root.get()) != 0 || ::chroot(".") != 0)
    return Error::from_errno("enter pod " + uuid + ": take the pod's root");

  spec.terminal_fd = -1;
  spec.inherit_stdin = true;
  std::vector<std::string> argv = command.empty() ? std::vector<std::string>{"/bin/sh"} : command;
  pid_t child = ::fork();  // the joined pid namespace applies to children only
  if (child < 0) return Error::from_errno("fork");
  if (child == 0) supervisor::exec_in_app(spec, argv);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return Error::from_errno("wait for the entered command");
  // This process now sits in the pod's namespaces and root: end it here, without exit
  // handlers. (LeakSanitizer's exit check, in the ASan build, cannot stop the world from
  // inside another pid namespace and would spin forever.)
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

}  // namespace podrt::stage1
