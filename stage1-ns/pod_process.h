// The pod's first process: cloned into new mount, pid, uts and ipc namespaces, it joins the
// pod's cgroups and network namespace, builds the pod root, pivots into it and, once stage1
// says go, becomes the pod init (PID 1) with the supervisor's plan.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-ns/rootfs/pod_root.h"
#include "stage1-ns/user_namespace.h"

namespace podrt::stage1 {

struct PodProcessConfig {
  rootfs::PodRoot root;
  std::string hostname;
  std::vector<std::string> cgroup_procs_files;  ///< the pod's cgroup, joined before unsharing
  /// Then a leaf below it for the pod init itself: cgroup v2 allows no process in a cgroup
  /// whose children have controllers (the apps' cgroups).
  std::vector<std::string> init_cgroup_procs_files;
  std::string netns_path;                       ///< a namespace to join, made by CNI
  /// --net=none: a new network namespace with only loopback, made here rather than through
  /// CNI (its loopback plugin alone doubles a pod's start time).
  bool loopback_only = false;
  std::string init_binary;                      ///< podrt-pod-init, opened before pivot_root
  int plan_fd = -1;                             ///< memfd the plan will be written to
  /// --private-users: the user namespace the process joins as its last step before exec,
  /// once everything that needs real root is done (-1: none).
  int userns_fd = -1;
  IdShift id_shift;  ///< its ids, with userns_fd
};

/// A started pod process, waiting for go().
class PodProcess {
 public:
  /// Clones the process and waits until it has built its root (or failed: the error is the
  /// child's one line). Call before starting any thread: the child runs ordinary C++.
  static Result<PodProcess> start(const PodProcessConfig& config);

  /// Lets the process exec the pod init; returns once the exec happened (or failed).
  Result<void> go();
  pid_t pid() const { return pid_; }

 private:
  PodProcess(pid_t pid, UniqueFd go_fd, UniqueFd status_fd)
      : pid_(pid), go_fd_(std::move(go_fd)), status_fd_(std::move(status_fd)) {}
  pid_t pid_;
  UniqueFd go_fd_;      ///< we write one byte: go
  UniqueFd status_fd_;  ///< the child writes an error line, or closes on exec
};

}  // namespace podrt::stage1
