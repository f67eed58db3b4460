// Cgroups for pods and apps on cgroup v1, v2 and hybrid hosts. Used by stage1-ns on the host
// and by guest-init inside the VM, so it depends on podrt_base only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace podrt::cgroups {

enum class CgroupMode { None, V1, Hybrid, V2 };
std::string_view to_string(CgroupMode mode);

/// One mounted hierarchy and where the calling process sits in it.
struct Hierarchy {
  std::string mount_point;             ///< e.g. /sys/fs/cgroup/memory, /sys/fs/cgroup/unified
  std::vector<std::string> controllers;  ///< v1: "memory", "cpu", "cpuacct", "pids", "name=systemd"; v2: empty
  bool unified = false;                 ///< a cgroup2 hierarchy
  std::string own_path;                 ///< the caller's cgroup in it, e.g. "/user.slice/x.scope"

  bool has_controller(std::string_view name) const;
};

/// The cgroup hierarchies of this host, as this process sees them.
struct Hierarchies {
  CgroupMode mode = CgroupMode::None;
  std::vector<Hierarchy> hierarchies;
  /// Reads /proc/self/mountinfo and /proc/self/cgroup.
  static Result<Hierarchies> detect();
  /// The same from given texts (tests).
  static Result<Hierarchies> parse(std::string_view mountinfo, std::string_view proc_self_cgroup);
  /// The hierarchies a pod's cgroup lives in: v1 memory, cpu, cpuacct, pids and name=systemd
  /// (plus the unified one, for grouping, on hybrid hosts); on v2 the one unified hierarchy.
  std::vector<Hierarchy> for_pods() const;
};

/// What an appc isolator asks of a cgroup; absent fields are left alone.
struct CgroupLimits {
  std::optional<uint64_t> memory_bytes;    ///< resource/memory limit
  std::optional<uint64_t> cpu_shares;      ///< os/linux/cpu-shares (v2: converted to cpu.weight)
  std::optional<uint64_t> cpu_millicores;  ///< resource/cpu limit: quota per 100 ms period
  std::optional<uint64_t> pids_max;
};

/// A cgroup present in every hierarchy podrt uses. Copyable handle: it does not remove the
/// cgroup when destroyed (a pod's cgroups outlive a killed stage1; gc calls destroy()).
class Cgroup {
 public:
  /// Creates `relative` (e.g. "podrt/<uuid>") below the caller's own cgroup in each hierarchy,
  /// enabling the controllers the limits need on v2. On a pure v2 host a non-root cgroup with
  /// processes (the caller's) cannot delegate controllers, so there the pod cgroup goes beside
  /// the caller's, in its parent, unless the caller's is the root or already delegates them.
  static Result<Cgroup> create(const Hierarchies& hierarchies, std::string_view relative);
  /// A cgroup known by its directories (one per hierarchy), e.g. read back from the pod dir.
  static Cgroup adopt(std::vector<std::string> directories);

  /// A child cgroup `name` (an app of the pod).
  Result<Cgroup> create_child(std::string_view name) const;
  Result<void> apply(const CgroupLimits& limits) const;
  Result<void> add_process(pid_t pid) const;
  /// The cgroup.procs file in each hierarchy (a process joins by writing its pid there).
  std::vector<std::string> procs_files() const;
  const std::vector<std::string>& directories() const { return directories_; }
  /// How many times the kernel's OOM killer killed a process in this cgroup.
  Result<uint64_t> oom_kill_count() const;
  /// Kills every process in the cgroup and its children, then removes them all. Idempotent:
  /// directories that are already gone are fine.
  Result<void> destroy() const;

 private:
  explicit Cgroup(std::vector<std::string> directories) : directories_(std::move(directories)) {}
  std::vector<std::string> directories_;
};

}  // namespace podrt::cgroups
