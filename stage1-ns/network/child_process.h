// ChildProcess: a program run with fork/exec (no shell), stdin fed, stdout and stderr captured,
// killed and reaped if it outlives its timeout or its owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1::network {

struct ProcessOutput {
  int exit_code = -1;  ///< exit status, or 128 + signal number
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  /// Starts argv[0] (an absolute path) with exactly `env` as its environment.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// Kills (SIGKILL) and reaps a child still running, so none is ever left behind.
  ~ChildProcess();

  /// Writes `input` to its stdin, closes it, collects its output and waits for it to exit;
  /// past `timeout` it is killed and this fails.
  Result<ProcessOutput> communicate(std::string_view input, std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }

 private:
  ChildProcess(pid_t pid, UniqueFd in, UniqueFd out, UniqueFd err)
      : pid_(pid), stdin_(std::move(in)), stdout_(std::move(out)), stderr_(std::move(err)) {}
  void kill_and_reap();

  pid_t pid_ = -1;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd stderr_;
};

/// spawn + communicate.
Result<ProcessOutput> run_process(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, std::string_view input,
                                  std::chrono::milliseconds timeout);

}  // namespace podrt::stage1::network
