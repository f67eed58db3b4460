#include "guest-init/exec_session.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "common/appc/json_fields.h"
#include "common/supervisor/supervisor.h"

namespace podrt::guest_init {
namespace {

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::from_errno("pipe for podrt enter");
  return std::pair<UniqueFd, UniqueFd>{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

Result<ExecProcess> start_exec(const supervisor::PodPlan& plan, const std::string& request_json) {
  nlohmann::json request = PODRT_TRY(appc::parse_json_document(request_json));
  PODRT_TRY(appc::expect_object(request, "exec"));
  std::string app = PODRT_TRY(appc::required_string(request, "app", "exec"));
  const nlohmann::json* argv_json = appc::find_member(request, "argv");
  if (argv_json == nullptr) return Error::invalid("exec.argv: missing");
  std::vector<std::string> argv = PODRT_TRY(appc::read_string_array(*argv_json, "exec.argv"));
  if (argv.empty() || argv[0].empty()) return Error::invalid("exec.argv: needs a program to run");
  const supervisor::AppSpec* found = nullptr;
  for (const supervisor::AppSpec& spec : plan.apps)
    if (spec.name == app) found = &spec;
  if (found == nullptr) return Error::invalid("the pod has no app " + app);

  auto [stdin_read, stdin_write] = PODRT_TRY(make_pipe());
  auto [stdout_read, stdout_write] = PODRT_TRY(make_pipe());
  auto [stderr_read, stderr_write] = PODRT_TRY(make_pipe());
  supervisor::AppSpec spec = *found;
  spec.terminal_fd = -1;
  spec.stdout_fd = -1;
  spec.stderr_fd = -1;
  spec.inherit_stdin = true;  // the pipes below, not /dev/null
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork for podrt enter");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(stdin_read.get(), STDIN_FILENO);
    ::dup2(stdout_write.get(), STDOUT_FILENO);
    ::dup2(stderr_write.get(), STDERR_FILENO);
    ::close_range(3, ~0U, 0);  // the control channel and the apps' pipes are PID 1's alone
    ::setsid();
    supervisor::exec_in_app(spec, argv);
  }
  for (int fd : {stdout_read.get(), stderr_read.get()})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return ExecProcess{pid, std::move(stdin_write), std::move(stdout_read), std::move(stderr_read)};
}

}  // namespace podrt::guest_init
