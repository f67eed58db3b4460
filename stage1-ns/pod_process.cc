#include "stage1-ns/pod_process.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/sys/file.h"

namespace podrt::stage1 {
namespace {

constexpr char kReady = 'R';

/// Reads until EOF or `limit` bytes.
std::string read_some(int fd, size_t limit = 4096) {
  std::string out;
  char buffer[512];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.back() == kReady || out.back() == '\n') break;
  }
  return out;
}

Result<void> join_namespace(const std::string& path, int type) {
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_RDONLY));
  if (::setns(fd.get(), type) != 0) return Error::from_errno("join " + path);
  return ok();
}

Result<void> bring_up_loopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::from_errno("socket for the loopback interface");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return Error::from_errno("read lo's flags");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) return Error::from_errno("bring lo up");
  return ok();
}

Result<void> join_cgroups(const std::vector<std::string>& procs_files) {
  std::string pid = std::to_string(::getpid());
  for (const std::string& procs : procs_files) {
    UniqueFd file = PODRT_TRY_CONTEXT(sys::open_file(procs, O_WRONLY), "join the pod's cgroup");
    PODRT_TRY_CONTEXT(sys::write_all(file.get(), pid, procs), "join the cgroup " + procs);
  }
  return ok();
}

/// Everything the child does before exec; any error goes back to stage1 as one line.
Result<void> build_pod(const PodProcessConfig& config, int status_fd, int go_fd) {
  // If stage1 dies, so does the pod: its PID 1 takes the whole pid namespace with it.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return Error::from_errno("set the parent-death signal");
  if (::getppid() == 1) return Error::invalid("stage1 died while the pod was starting");
  PODRT_TRY(join_cgroups(config.cgroup_procs_files));
  // The pod's cgroup becomes the root of the pod's cgroup namespace.
  if (::unshare(CLONE_NEWCGROUP) != 0) return Error::from_errno("unshare the cgroup namespace");
  PODRT_TRY(join_cgroups(config.init_cgroup_procs_files));
  if (!config.netns_path.empty()) PODRT_TRY(join_namespace(config.netns_path, CLONE_NEWNET));
  if (config.loopback_only) {
    if (::unshare(CLONE_NEWNET) != 0) return Error::from_errno("unshare the network namespace");
    PODRT_TRY(bring_up_loopback());
  }
  if (::sethostname(config.hostname.data(), config.hostname.size()) != 0)
    return Error::from_errno("set the hostname " + config.hostname);
  UniqueFd init = PODRT_TRY(sys::open_file(config.init_binary, O_PATH));
  PODRT_TRY(rootfs::enter_pod_root(config.root));
  if (config.userns_fd >= 0) {
    if (!config.netns_path.empty() || config.loopback_only)
      PODRT_TRY(open_network_to_pod_ids(config.id_shift));
    PODRT_TRY(join_as_root(config.userns_fd));
    // Changing ids cleared the parent-death signal. Should stage1 die before it is set again,
    // the go pipe below reads end-of-file and the process gives up.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return Error::from_errno("set the parent-death signal");
  }

  PODRT_TRY(sys::write_all(status_fd, std::string(1, kReady), "to stage1"));
  char go = 0;
  ssize_t n;
  while ((n = ::read(go_fd, &go, 1)) < 0 && errno == EINTR) {}
  if (n != 1) return Error::invalid("stage1 gave up before the pod started");

  std::string plan_arg = "--plan-fd=" + std::to_string(config.plan_fd);
  char* argv[] = {const_cast<char*>("podrt-pod-init"), plan_arg.data(), nullptr};
  char* envp[] = {nullptr};
  ::syscall(SYS_execveat, init.get(), "", argv, envp, AT_EMPTY_PATH);
  return Error::from_errno("exec the pod init " + config.init_binary);
}

}  // namespace

Result<PodProcess> PodProcess::start(const PodProcessConfig& config) {
  int go_pipe[2], status_pipe[2];
  if (::pipe2(go_pipe, O_CLOEXEC) != 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0)
    return Error::from_errno("make pipes for the pod process");
  UniqueFd go_read(go_pipe[0]), go_write(go_pipe[1]);
  UniqueFd status_read(status_pipe[0]), status_write(status_pipe[1]);

  // clone(2) without a stack behaves like fork(2), with the namespace flags.
  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) return Error::from_errno("clone the pod's namespaces");
  if (pid == 0) {
    go_write.reset();
    status_read.reset();
    Result<void> built = build_pod(config, status_write.get(), go_read.get());
    std::string line = built.error().message() + "\n";
    (void)sys::write_all(status_write.get(), line, "to stage1");
    ::_exit(254);
  }
  go_read.reset();
  status_write.reset();
  PodProcess process(static_cast<pid_t>(pid), std::move(go_write), std::move(status_read));
  std::string answer = read_some(process.status_fd_.get());
  if (answer.size() == 1 && answer[0] == kReady) return process;
  ::kill(process.pid_, SIGKILL);
  ::waitpid(process.pid_, nullptr, 0);
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  return Error::invalid(answer.empty() ? "the pod process died while starting" : answer);
}

Result<void> PodProcess::go() {
  PODRT_TRY(sys::write_all(go_fd_.get(), "G", "to the pod process"));
  go_fd_.reset();
  std::string answer = read_some(status_fd_.get());
  status_fd_.reset();
  if (answer.empty()) return ok();  // the status pipe closed on exec
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  return Error::invalid(answer);
}

}  // namespace podrt::stage1
