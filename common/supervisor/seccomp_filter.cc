#include "common/supervisor/seccomp_filter.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace podrt::supervisor {
namespace {

// Docker's default seccomp profile: the syscalls it allows unconditionally, plus those it
// allows with argument checks (clone, socket, arch_prctl), which a name list cannot express.
// Names of other architectures are kept (skipped on x86_64) so the list stays Docker's.
constexpr std::string_view kDockerDefaultWhitelist[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
    "cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "clone", "clone3", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
    "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
    "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
    "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
    "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
    "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue",
    "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
    "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
    "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
    "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
    "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
    "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "nanosleep", "newfstatat", "_newselect", "open", "openat",
    "openat2", "pause", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
    "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall",
    "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
    "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
    "sigprocmask", "sigreturn", "socket", "socketcall", "socketpair", "splice", "stat",
    "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
    "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
};

// What Docker's default profile blocks: kernel, clock, keyring, mount, namespace, module,
// NUMA and tracing syscalls a container has no business calling.
constexpr std::string_view kDockerDefaultBlacklist[] = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
    "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages",
    "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
    "open_by_handle_at", "open_tree", "perf_event_open", "personality", "pivot_root",
    "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl",
    "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setdomainname", "sethostname",
    "setns", "settimeofday", "stime", "swapoff", "swapon", "sysfs", "_sysctl", "syslog",
    "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vhangup", "vm86",
    "vm86old",
};

struct ErrnoName {
  std::string_view name;
  int value;
};

#define PODRT_ERRNO(name) {#name, name}
constexpr ErrnoName kErrnoNames[] = {
    PODRT_ERRNO(EPERM),        PODRT_ERRNO(ENOENT),       PODRT_ERRNO(ESRCH),
    PODRT_ERRNO(EINTR),        PODRT_ERRNO(EIO),          PODRT_ERRNO(ENXIO),
    PODRT_ERRNO(E2BIG),        PODRT_ERRNO(ENOEXEC),      PODRT_ERRNO(EBADF),
    PODRT_ERRNO(ECHILD),       PODRT_ERRNO(EAGAIN),       PODRT_ERRNO(ENOMEM),
    PODRT_ERRNO(EACCES),       PODRT_ERRNO(EFAULT),       PODRT_ERRNO(EBUSY),
    PODRT_ERRNO(EEXIST),       PODRT_ERRNO(EXDEV),        PODRT_ERRNO(ENODEV),
    PODRT_ERRNO(ENOTDIR),      PODRT_ERRNO(EISDIR),       PODRT_ERRNO(EINVAL),
    PODRT_ERRNO(ENFILE),       PODRT_ERRNO(EMFILE),       PODRT_ERRNO(ENOTTY),
    PODRT_ERRNO(ETXTBSY),      PODRT_ERRNO(EFBIG),        PODRT_ERRNO(ENOSPC),
    PODRT_ERRNO(ESPIPE),       PODRT_ERRNO(EROFS),        PODRT_ERRNO(EMLINK),
    PODRT_ERRNO(EPIPE),        PODRT_ERRNO(EDOM),         PODRT_ERRNO(ERANGE),
    PODRT_ERRNO(EDEADLK),      PODRT_ERRNO(ENAMETOOLONG), PODRT_ERRNO(ENOLCK),
    PODRT_ERRNO(ENOSYS),       PODRT_ERRNO(ENOTEMPTY),    PODRT_ERRNO(ELOOP),
    PODRT_ERRNO(EWOULDBLOCK),  PODRT_ERRNO(ENOMSG),       PODRT_ERRNO(ENODATA),
    PODRT_ERRNO(ETIME),        PODRT_ERRNO(EOVERFLOW),    PODRT_ERRNO(EILSEQ),
    PODRT_ERRNO(ENOTSOCK),     PODRT_ERRNO(EDESTADDRREQ), PODRT_ERRNO(EMSGSIZE),
    PODRT_ERRNO(EPROTOTYPE),   PODRT_ERRNO(ENOPROTOOPT),  PODRT_ERRNO(EPROTONOSUPPORT),
    PODRT_ERRNO(EOPNOTSUPP),   PODRT_ERRNO(ENOTSUP),      PODRT_ERRNO(EAFNOSUPPORT),
    PODRT_ERRNO(EADDRINUSE),   PODRT_ERRNO(EADDRNOTAVAIL), PODRT_ERRNO(ENETDOWN),
    PODRT_ERRNO(ENETUNREACH),  PODRT_ERRNO(ECONNABORTED), PODRT_ERRNO(ECONNRESET),
    PODRT_ERRNO(ENOBUFS),      PODRT_ERRNO(EISCONN),      PODRT_ERRNO(ENOTCONN),
    PODRT_ERRNO(ETIMEDOUT),    PODRT_ERRNO(ECONNREFUSED), PODRT_ERRNO(EHOSTUNREACH),
    PODRT_ERRNO(EALREADY),     PODRT_ERRNO(EINPROGRESS),  PODRT_ERRNO(ECANCELED),
    PODRT_ERRNO(EDQUOT),       PODRT_ERRNO(EOWNERDEAD),
};
#undef PODRT_ERRNO

template <size_t N>
void add_known(const std::string_view (&names)[N], std::vector<int>& numbers) {
  for (std::string_view name : names) {
    std::string text(name);
    // Negative numbers are libseccomp's pseudo-syscalls: names of other architectures.
    int number = seccomp_syscall_resolve_name(text.c_str());
    if (number >= 0) numbers.push_back(number);
  }
}

}  // namespace

Result<SyscallSet> expand_syscall_set(const std::vector<std::string>& names) {
  SyscallSet set;
  for (const std::string& name : names) {
    if (name == "@appc.io/all") {
      set.all = true;
    } else if (name == "@appc.io/empty") {
      // Adds nothing.
    } else if (name == "@rkt/default-whitelist" || name == "@docker/default-whitelist") {
      add_known(kDockerDefaultWhitelist, set.numbers);
    } else if (name == "@rkt/default-blacklist" || name == "@docker/default-blacklist") {
      add_known(kDockerDefaultBlacklist, set.numbers);
    } else if (!name.empty() && name[0] == '@') {
      return Error::invalid("unknown seccomp wildcard \"" + name + "\"");
    } else {
      int number = seccomp_syscall_resolve_name(name.c_str());
      if (number == __NR_SCMP_ERROR) return Error::invalid("unknown syscall \"" + name + "\"");
      if (number >= 0) set.numbers.push_back(number);
    }
  }
  std::sort(set.numbers.begin(), set.numbers.end());
  set.numbers.erase(std::unique(set.numbers.begin(), set.numbers.end()), set.numbers.end());
  return set;
}

Result<int> errno_from_name(std::string_view name) {
  for (const ErrnoName& entry : kErrnoNames)
    if (entry.name == name) return entry.value;
  return Error::invalid("unknown errno \"" + std::string(name) + "\"");
}

SeccompPolicy default_seccomp_policy() {
  SeccompPolicy policy;
  policy.mode = SeccompPolicy::Mode::Retain;
  policy.syscalls = {"@rkt/default-whitelist"};
  return policy;
}

Result<SeccompFilter> SeccompFilter::build(const SeccompPolicy& policy) {
  SyscallSet set = PODRT_TRY_CONTEXT(expand_syscall_set(policy.syscalls), "seccomp");
  uint32_t block = SCMP_ACT_KILL_PROCESS;
  if (policy.errno_name) {
    int code = PODRT_TRY_CONTEXT(errno_from_name(*policy.errno_name), "seccomp");
    block = SCMP_ACT_ERRNO(static_cast<uint32_t>(code));
  }
  bool retain = policy.mode == SeccompPolicy::Mode::Retain;
  // Keeping every syscall, or removing none, needs no filter (nor no_new_privs for one).
  if (retain ? set.all : (!set.all && set.numbers.empty())) return SeccompFilter(nullptr);

  // Retain: block by default and allow the set; Remove: the opposite. "All" needs no rules.
  uint32_t default_action = retain ? block : (set.all ? block : SCMP_ACT_ALLOW);
  uint32_t rule_action = retain ? SCMP_ACT_ALLOW : block;
  SeccompFilter filter(seccomp_init(default_action));
  if (filter.context_ == nullptr) return Error::invalid("seccomp: cannot create a filter");
  // no_new_privs is the caller's decision (see app_exec.cc), not libseccomp's.
  int rc = seccomp_attr_set(filter.context_, SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return Error::with_code(-rc, "seccomp: disable automatic no_new_privs");
  if (!set.all) {
    for (int number : set.numbers) {
      rc = seccomp_rule_add(filter.context_, rule_action, number, 0);
      if (rc != 0) {
        char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
        Error error = Error::with_code(-rc, std::string("seccomp: add a rule for ") +
                                                (name ? name : std::to_string(number).c_str()));
        ::free(name);
        return error;
      }
    }
  }
  return filter;
}

Result<SeccompFilter> SeccompFilter::from_bpf(std::string program) {
  if (program.empty() || program.size() % sizeof(sock_filter) != 0 ||
      program.size() / sizeof(sock_filter) > BPF_MAXINSNS)
    return Error::invalid("seccomp: a compiled filter of " + std::to_string(program.size()) +
                          " bytes is not a BPF program");
  SeccompFilter filter(nullptr);
  filter.program_ = std::move(program);
  return filter;
}

Result<std::string> SeccompFilter::export_bpf() const {
  if (!program_.empty()) return program_;
  if (context_ == nullptr) return std::string();
  // libseccomp 2.5 exports to an fd only.
  int fd = ::memfd_create("podrt-seccomp", MFD_CLOEXEC);
  if (fd < 0) return Error::from_errno("seccomp: memfd for the compiled filter");
  std::string program;
  int rc = seccomp_export_bpf(context_, fd);
  if (rc == 0) {
    char buffer[4096];
    ssize_t n;
    off_t offset = 0;
    while ((n = ::pread(fd, buffer, sizeof buffer, offset)) > 0) {
      program.append(buffer, static_cast<size_t>(n));
      offset += n;
    }
  }
  ::close(fd);
  if (rc != 0) return Error::with_code(-rc, "seccomp: compile the filter");
  return program;
}

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)), program_(std::move(other.program_)) {}

SeccompFilter& SeccompFilter::operator=(SeccompFilter&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr) seccomp_release(context_);
    context_ = std::exchange(other.context_, nullptr);
    program_ = std::move(other.program_);
  }
  return *this;
}

SeccompFilter::~SeccompFilter() {
  if (context_ != nullptr) seccomp_release(context_);
}

Result<void> SeccompFilter::load() const {
  if (!program_.empty()) {
    // What seccomp_load does with podrt's attributes: SECCOMP_MODE_FILTER, no flags.
    sock_fprog prog{static_cast<unsigned short>(program_.size() / sizeof(sock_filter)),
                    const_cast<sock_filter*>(reinterpret_cast<const sock_filter*>(program_.data()))};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      return Error::from_errno("load the seccomp filter");
    return ok();
  }
  if (context_ == nullptr) return ok();
  int rc = seccomp_load(context_);
  if (rc != 0) return Error::with_code(-rc, "load the seccomp filter");
  return ok();
}

}  // namespace podrt::supervisor
