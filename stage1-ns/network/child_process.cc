#include "stage1-ns/network/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace podrt::stage1::network {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::from_errno("pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env) {
  if (argv.empty()) return Error::invalid("spawn: empty command line");
  Pipe in = PODRT_TRY(make_pipe());
  Pipe out = PODRT_TRY(make_pipe());
  Pipe err = PODRT_TRY(make_pipe());
  // Everything exec needs is built before fork: only async-signal-safe calls in the child.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& var : env) envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork for " + argv[0]);
  if (pid == 0) {
    // dup2 clears O_CLOEXEC on 0, 1 and 2; every other fd of ours is close-on-exec.
    if (::dup2(in.read.get(), 0) < 0 || ::dup2(out.write.get(), 1) < 0 ||
        ::dup2(err.write.get(), 2) < 0)
      ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  return ChildProcess(pid, std::move(in.write), std::move(out.read), std::move(err.read));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)) {}

ChildProcess::~ChildProcess() { kill_and_reap(); }

void ChildProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Result<ProcessOutput> ChildProcess::communicate(std::string_view input,
                                                std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  ProcessOutput output;
  if (input.empty()) stdin_.reset();
  if (stdin_ && ::fcntl(stdin_.get(), F_SETFL, O_NONBLOCK) != 0)
    return Error::from_errno("make the child's stdin non-blocking");
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  struct sigaction ignore = {}, previous = {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  struct RestoreSigpipe {
    struct sigaction action;
    ~RestoreSigpipe() { ::sigaction(SIGPIPE, &action, nullptr); }
  } restore{previous};

  while (stdin_ || stdout_ || stderr_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      kill_and_reap();
      return Error::invalid("timed out after " + std::to_string(timeout.count() / 1000) + "s");
    }
    pollfd fds[3] = {{stdin_.get(), POLLOUT, 0}, {stdout_.get(), POLLIN, 0},
                     {stderr_.get(), POLLIN, 0}};
    int ready = ::poll(fds, 3, static_cast<int>(left.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("poll the child's output");
    }
    if (stdin_ && fds[0].revents != 0) {
      ssize_t n = ::write(stdin_.get(), input.data(), input.size());
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        stdin_.reset();  // EPIPE: it does not want its input; its exit status will say why
      } else if (n > 0) {
        input.remove_prefix(static_cast<size_t>(n));
        if (input.empty()) stdin_.reset();
      }
    }
    UniqueFd* readers[2] = {&stdout_, &stderr_};
    std::string* sinks[2] = {&output.out, &output.err};
    for (int i = 0; i < 2; ++i) {
      if (!*readers[i] || fds[i + 1].revents == 0) continue;
      char buffer[16384];
      ssize_t n = ::read(readers[i]->get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        readers[i]->reset();
      } else {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      }
    }
  }

  // Output closed; the exit itself still has to come within the deadline.
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done < 0 && errno != EINTR) return Error::from_errno("wait for the child");
    if (done == pid_) {
      pid_ = -1;
      output.exit_code = decode_status(status);
      return output;
    }
    if (Clock::now() >= deadline) {
      kill_and_reap();
      return Error::invalid("timed out after " + std::to_string(timeout.count() / 1000) + "s");
    }
    ::usleep(2000);
  }
}

Result<ProcessOutput> run_process(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, std::string_view input,
                                  std::chrono::milliseconds timeout) {
  ChildProcess child = PODRT_TRY(ChildProcess::spawn(argv, env));
  return child.communicate(input, timeout);
}

}  // namespace podrt::stage1::network
