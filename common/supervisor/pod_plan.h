// PodPlan: everything the pod supervisor needs to run a pod's apps, fully resolved by the
// stage1 that built it (stage1-ns on the host, guest-init in the VM). The supervisor never
// reads an appc manifest: stage1 turns manifests and flags into this plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace podrt::supervisor {

/// An appc seccomp isolator, resolved: keep only `syscalls` (Retain) or block them (Remove).
struct SeccompPolicy {
  enum class Mode { Retain, Remove };
  Mode mode = Mode::Retain;
  /// Syscall names and rkt's wildcards (@rkt/default-whitelist, @rkt/default-blacklist,
  /// @docker/default-whitelist, @docker/default-blacklist, @appc.io/all, @appc.io/empty).
  std::vector<std::string> syscalls;
  /// "EPERM" etc.: a blocked syscall fails with it; absent: the process is killed (SIGSYS).
  std::optional<std::string> errno_name;
};

/// One setrlimit(2): name is "RLIMIT_NOFILE" etc.
struct ResourceLimit {
  std::string name;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

/// One app, as the supervisor starts it.
struct AppSpec {
  std::string name;                      ///< AC name; status/<name> holds its exit code
  std::string root;                      ///< directory the app is chrooted into
  std::vector<std::string> exec;         ///< argv; exec[0] absolute, or looked up in PATH
  std::vector<std::string> environment;  ///< the final "NAME=value" list
  std::string working_directory = "/";
  std::string user = "0";                ///< a number, or a name from root/etc/passwd
  std::string group = "0";               ///< a number, or a name from root/etc/group
  std::vector<uint32_t> supplementary_gids;
  /// The capability bounding set to keep ("CAP_CHOWN", ...); every other one is dropped.
  /// A root app keeps these as effective/permitted too; a non-root app gets none.
  std::vector<std::string> capabilities;
  std::optional<SeccompPolicy> seccomp;
  /// `seccomp` compiled to BPF by stage1 (cached per policy on the host): loaded as is, so an
  /// app start does not compile it. Empty: the supervisor compiles `seccomp` itself.
  std::string seccomp_bpf;
  bool no_new_privileges = false;
  std::vector<ResourceLimit> rlimits;
  std::optional<int> oom_score_adj;
  /// cgroup.procs files (as the supervisor sees them) the app joins before it execs.
  std::vector<std::string> cgroup_procs_files;
  std::vector<std::vector<std::string>> pre_start;  ///< appc pre-start handlers, in order
  std::vector<std::vector<std::string>> post_stop;  ///< appc post-stop handlers, in order
  /// A terminal fd the supervisor inherited: the app gets it as stdin, stdout, stderr and
  /// controlling terminal. -1: stdin is /dev/null and stdout/stderr are the supervisor's.
  int terminal_fd = -1;
  /// `podrt enter`: keep the caller's stdin, stdout and stderr as they are. Not in the JSON
  /// plan: the supervisor never starts an app that way.
  bool inherit_stdin = false;
  /// Where the app's stdout and stderr go (guest-init: pipes it relays to the host); -1: the
  /// supervisor's own. Ignored with a terminal_fd. Not in the JSON plan, like inherit_stdin.
  int stdout_fd = -1;
  int stderr_fd = -1;
};

/// A whole pod.
struct PodPlan {
  std::vector<AppSpec> apps;
  std::string status_dir;          ///< the supervisor writes status_dir/<app> = exit code
  int stop_timeout_seconds = 10;   ///< SIGTERM to SIGKILL when the pod is stopped
};

nlohmann::json to_json(const PodPlan& plan);
/// Parses what to_json wrote; errors are one line starting with "pod plan: ".
Result<PodPlan> parse_pod_plan(std::string_view json_text);

}  // namespace podrt::supervisor
