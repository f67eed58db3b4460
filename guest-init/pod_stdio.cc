#include "guest-init/pod_stdio.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

namespace podrt::guest_init {
namespace {

using guest_protocol::FrameType;

Result<void> set_non_blocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Error::from_errno("make an output pipe non-blocking");
  return ok();
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// Close-on-exec both: the supervisor does not exec, and an app gets its end by dup2 onto 1/2.
// Only the read end is non-blocking (the flag belongs to each end's open file): an app that
// writes faster than the host reads must block, not fail with EAGAIN.
Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::from_errno("make an output pipe");
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  PODRT_TRY(set_non_blocking(pipe.read.get()));
  return pipe;
}

Result<void> open_terminal(PodStdio& stdio, supervisor::AppSpec& app) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
    return Error::from_errno("open a pseudo-terminal for the app");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0)
    return Error::from_errno("name the app's pseudo-terminal");
  UniqueFd replica(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!replica) return Error::from_errno(std::string("open ") + name);
  PODRT_TRY(set_non_blocking(master.get()));
  // The master's output is read through a second fd, as the pipes are; the first takes input.
  UniqueFd output(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
  if (!output) return Error::from_errno("duplicate the pseudo-terminal's master");
  stdio.outputs.push_back(OutputSource{std::move(output), FrameType::kStdout, 0});
  app.terminal_fd = replica.get();
  stdio.terminal = std::move(master);
  stdio.terminal_path = name;
  stdio.child_ends.push_back(std::move(replica));
  return ok();
}

}  // namespace

Result<PodStdio> make_pod_stdio(supervisor::PodPlan& plan, bool interactive) {
  if (plan.apps.size() > 256) return Error::invalid("a pod of more than 256 apps");
  PodStdio stdio;
  if (interactive) {
    if (plan.apps.size() != 1) return Error::invalid("an interactive pod needs exactly one app");
    PODRT_TRY(open_terminal(stdio, plan.apps[0]));
  } else {
    for (size_t i = 0; i < plan.apps.size(); ++i) {
      auto channel = static_cast<uint8_t>(i);
      Pipe out = PODRT_TRY(make_pipe());
      Pipe err = PODRT_TRY(make_pipe());
      plan.apps[i].stdout_fd = out.write.get();
      plan.apps[i].stderr_fd = err.write.get();
      stdio.outputs.push_back(OutputSource{std::move(out.read), FrameType::kStdout, channel});
      stdio.outputs.push_back(OutputSource{std::move(err.read), FrameType::kStderr, channel});
      stdio.child_ends.push_back(std::move(out.write));
      stdio.child_ends.push_back(std::move(err.write));
    }
  }
  Pipe messages = PODRT_TRY(make_pipe());
  stdio.outputs.push_back(OutputSource{std::move(messages.read), FrameType::kStderr, 0});
  stdio.supervisor_stderr = std::move(messages.write);
  return stdio;
}

}  // namespace podrt::guest_init
