#include "stage1-kvm/hypervisor_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace podrt::stage1_kvm {
namespace {

class HypervisorProcess final : public RunningVm {
 public:
  explicit HypervisorProcess(pid_t pid) : pid_(pid) {}
  ~HypervisorProcess() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const override { return pid_; }
  bool poll_exit(int& status) override {
    if (pid_ <= 0) return true;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done != pid_) return false;
    pid_ = -1;
    return true;
  }
  void kill() override {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }

 private:
  pid_t pid_;
};

/// In the forked child: becomes the hypervisor. Never returns.
[[noreturn]] void exec_hypervisor(const std::vector<std::string>& argv, const VmSpec& spec,
                                  pid_t parent) {
  // Dies with stage1 (a SIGKILLed stage1 leaves no VM), and keeps out of the terminal's
  // process group: ^C is stage1's to forward to the guest, not the hypervisor's to act on.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDOUT_FILENO);
  if (spec.stderr_fd >= 0) ::dup2(spec.stderr_fd, STDERR_FILENO);
  auto keep = [](int fd) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, 0);
  };
  keep(spec.control_fd);
  keep(spec.console_fd);
  for (const VmNic& nic : spec.nics) keep(nic.tap_fd);
  std::vector<char*> pointers;
  for (const std::string& word : argv) pointers.push_back(const_cast<char*>(word.c_str()));
  pointers.push_back(nullptr);
  ::execv(pointers[0], pointers.data());
  ::dprintf(STDERR_FILENO, "exec %s: %m\n", pointers[0]);
  ::_exit(127);
}

}  // namespace

Result<std::unique_ptr<RunningVm>> start_hypervisor_process(const std::vector<std::string>& argv,
                                                            const VmSpec& spec) {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork for " + argv[0]);
  if (pid == 0) exec_hypervisor(argv, spec, parent);
  return std::unique_ptr<RunningVm>(std::make_unique<HypervisorProcess>(pid));
}

}  // namespace podrt::stage1_kvm
