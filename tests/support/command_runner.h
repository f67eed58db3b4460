// Runs a program the way a user's shell would and captures what it printed.
#pragma once

#include <string>
#include <vector>

namespace podrt::testing {

struct CommandResult {
  int exit_code = -1;  ///< exit status, or 128 + signal number
  std::string out;
  std::string err;
};

/// Runs argv[0] (looked up in PATH) with argv, waits for it and captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv);

/// Starts argv in the background with stdout and stderr on /dev/null; returns its pid.
int spawn_quietly(const std::vector<std::string>& argv);

/// Waits for a child started by spawn_quietly; returns its exit code or 128 + signal.
int wait_for(int pid);

/// A fresh directory under /tmp, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace podrt::testing
