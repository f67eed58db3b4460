// Seccomp filters for apps (libseccomp), from an appc seccomp isolator as resolved in the plan.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/supervisor/pod_plan.h"

namespace podrt::supervisor {

/// Syscall names after wildcard expansion: `all` for @appc.io/all, else native syscall numbers.
struct SyscallSet {
  bool all = false;
  std::vector<int> numbers;  ///< sorted, unique
};

/// Expands rkt's wildcards. Names in a wildcard list that this architecture lacks are skipped;
/// an explicit name libseccomp does not know, or an unknown wildcard, is an error.
Result<SyscallSet> expand_syscall_set(const std::vector<std::string>& names);
/// "EPERM" -> EPERM.
Result<int> errno_from_name(std::string_view name);
/// rkt's default for apps without a seccomp isolator: retain @rkt/default-whitelist, kill.
SeccompPolicy default_seccomp_policy();

/// A built (not yet loaded) filter. Loading is the last step before execve, so that the
/// filter never applies to the supervisor's own setup calls.
class SeccompFilter {
 public:
  static Result<SeccompFilter> build(const SeccompPolicy& policy);
  /// A filter compiled before (export_bpf), loaded as is: what the pod init and guest-init
  /// use, so that no app start pays for libseccomp's compilation (slow under emulation).
  static Result<SeccompFilter> from_bpf(std::string program);
  SeccompFilter(SeccompFilter&& other) noexcept;
  SeccompFilter& operator=(SeccompFilter&& other) noexcept;
  SeccompFilter(const SeccompFilter&) = delete;
  SeccompFilter& operator=(const SeccompFilter&) = delete;
  ~SeccompFilter();

  /// Installs the filter in the calling thread. Without CAP_SYS_ADMIN the caller must have
  /// set no_new_privs first; this never sets it behind the caller's back.
  Result<void> load() const;
  /// False when the policy filters nothing (retain @appc.io/all).
  bool active() const { return context_ != nullptr || !program_.empty(); }
  /// The compiled BPF program (struct sock_filter[]); empty for an inactive filter.
  Result<std::string> export_bpf() const;

 private:
  explicit SeccompFilter(void* context) : context_(context) {}
  void* context_ = nullptr;  // scmp_filter_ctx
  std::string program_;      // from_bpf's
};

}  // namespace podrt::supervisor
