// How stage0 hands a pod to stage1 (docs/stage1-contract.md): it finds the stage1 binary
// installed beside podrt and execs (run, enter) or runs (stop, gc) one of its entrypoints.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/sys/file_lock.h"

namespace podrt::pods {

/// What `podrt run` / `run-prepared` pass on to stage1's run entrypoint, as flags.
struct Stage1RunOptions {
  std::string stage1 = "ns";           ///< --stage1: ns | kvm
  std::string hypervisor = "auto";     ///< --hypervisor (kvm): auto | qemu | builtin | libvirt
  std::string acceleration;            ///< kvm: "kvm" or "tcg", resolved by stage0 from the host
  std::string data_dir;                ///< --dir
  bool debug = false;
  std::vector<std::string> networks;   ///< --net entries; empty: "default"
  std::vector<std::string> dns;        ///< --dns
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_options;
  std::vector<std::string> hosts_entries;  ///< --hosts-entry IP=NAME
  std::string hostname;                ///< --hostname; empty: podrt-<uuid>
  bool interactive = false;
  bool private_users = false;
  bool disable_seccomp = false;        ///< --insecure-options=seccomp
  bool disable_capabilities = false;   ///< --insecure-options=capabilities
  bool disable_paths = false;          ///< --insecure-options=paths
};

/// The stage1 binary for a flavour ("ns" -> podrt-stage1-ns beside /proc/self/exe).
Result<std::string> stage1_binary(const std::string& stage1);

/// Replaces this process with stage1's run entrypoint for the pod at `pod_path`, handing it
/// the pod's lock (PODRT_LOCK_FD). Returns only on failure.
Result<void> exec_stage1_run(const std::string& pod_path, const std::string& uuid,
                             sys::FileLock lock, const Stage1RunOptions& options);

/// Runs `podrt-stage1-ns ENTRYPOINT ARGS... UUID` in the pod directory and returns its exit
/// code (stop, gc), or replaces this process with it when `replace` is set (enter).
Result<int> run_stage1_entrypoint(const std::string& pod_path, const std::string& entrypoint,
                                  const std::vector<std::string>& arguments, bool replace);

}  // namespace podrt::pods
