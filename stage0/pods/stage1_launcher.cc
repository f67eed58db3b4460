#include "stage0/pods/stage1_launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "common/sys/file.h"

extern char** environ;

namespace podrt::pods {
namespace {

std::vector<char*> c_strings(std::vector<std::string>& words) {
  std::vector<char*> pointers;
  for (std::string& word : words) pointers.push_back(word.data());
  pointers.push_back(nullptr);
  return pointers;
}

/// Which stage1 last ran a pod, so that stop, enter and gc pick the same one.
constexpr const char* kStage1File = "flavor";

}  // namespace

Result<std::string> stage1_binary(const std::string& stage1) {
  if (stage1 != "ns" && stage1 != "kvm")
    return Error::invalid("--stage1=" + stage1 + ": unknown stage1 (ns or kvm)");
  // An explicit override for tests and packagers; otherwise beside the podrt binary.
  if (const char* override_dir = ::getenv("PODRT_STAGE1_DIR"))
    return std::string(override_dir) + "/podrt-stage1-" + stage1;
  std::string dir = sys::own_directory();
  if (dir.empty()) return Error::from_errno("find the podrt binary");
  std::string binary = dir + "/podrt-stage1-" + stage1;
  if (::access(binary.c_str(), X_OK) != 0) return Error::from_errno("stage1 " + binary);
  return binary;
}

Result<void> exec_stage1_run(const std::string& pod_path, const std::string& uuid,
                             sys::FileLock lock, const Stage1RunOptions& options) {
  std::string binary = PODRT_TRY(stage1_binary(options.stage1));
  PODRT_TRY(sys::write_file_atomic(pod_path + "/" + kStage1File, options.stage1, 0644, sys::Sync::No));
  std::vector<std::string> argv = {binary, "run", "--dir=" + options.data_dir};
  if (options.debug) argv.push_back("--debug");
  for (const std::string& net : options.networks) argv.push_back("--net=" + net);
  for (const std::string& dns : options.dns) argv.push_back("--dns=" + dns);
  for (const std::string& search : options.dns_search) argv.push_back("--dns-search=" + search);
  for (const std::string& opt : options.dns_options) argv.push_back("--dns-opt=" + opt);
  for (const std::string& entry : options.hosts_entries) argv.push_back("--hosts-entry=" + entry);
  if (!options.hostname.empty()) argv.push_back("--hostname=" + options.hostname);
  if (options.interactive) argv.push_back("--interactive");
  if (options.private_users) argv.push_back("--private-users");
  if (options.disable_seccomp) argv.push_back("--disable-seccomp");
  if (options.disable_capabilities) argv.push_back("--disable-capabilities-restriction");
  if (options.disable_paths) argv.push_back("--disable-paths");
  if (options.stage1 == "kvm") {
    argv.push_back("--hypervisor=" + options.hypervisor);
    argv.push_back("--accel=" + options.acceleration);
  }
  argv.push_back(uuid);

  // The lock must survive exec: stage1 holds it for the pod's life (rkt's RKT_LOCK_FD).
  UniqueFd fd = lock.release_fd();
  int flags = ::fcntl(fd.get(), F_GETFD);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFD, flags & ~FD_CLOEXEC) != 0)
    return Error::from_errno("pass the pod lock to stage1");
  if (::setenv("PODRT_LOCK_FD", std::to_string(fd.get()).c_str(), 1) != 0)
    return Error::from_errno("set PODRT_LOCK_FD");
  if (::chdir(pod_path.c_str()) != 0) return Error::from_errno("chdir " + pod_path);
  std::vector<char*> args = c_strings(argv);
  ::execve(binary.c_str(), args.data(), environ);
  return Error::from_errno("exec " + binary);
}

Result<int> run_stage1_entrypoint(const std::string& pod_path, const std::string& entrypoint,
                                  const std::vector<std::string>& arguments, bool replace) {
  std::string stage1 = sys::read_file(pod_path + "/" + kStage1File).value_or("ns");
  std::string binary = PODRT_TRY(stage1_binary(stage1));
  std::vector<std::string> argv = {binary, entrypoint};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::vector<char*> args = c_strings(argv);
  if (replace) {
    if (::chdir(pod_path.c_str()) != 0) return Error::from_errno("chdir " + pod_path);
    ::execve(binary.c_str(), args.data(), environ);
    return Error::from_errno("exec " + binary);
  }
  pid_t child = ::fork();
  if (child < 0) return Error::from_errno("fork for stage1 " + entrypoint);
  if (child == 0) {
    if (::chdir(pod_path.c_str()) == 0) ::execve(binary.c_str(), args.data(), environ);
    ::_exit(254);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return Error::from_errno("wait for stage1 " + entrypoint);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace podrt::pods
