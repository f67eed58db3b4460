// Tearing a cgroup down: kill everything in it, then remove it and its children.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <set>
#include <thread>

#include "common/cgroups/cgroup.h"
#include "common/cgroups/control_file.h"
#include "common/sys/file.h"

namespace podrt::cgroups {

namespace {

using Clock = std::chrono::steady_clock;
// Killed processes need a moment to exit; one stuck longer (in D state, say) is reported.
constexpr auto kPatience = std::chrono::seconds(5);
constexpr auto kPoll = std::chrono::milliseconds(10);

// Every process in `directory` and below; a cgroup removed meanwhile holds none.
Result<void> collect_processes(const std::string& directory, std::set<pid_t>& pids) {
  for (const std::string& cgroup : PODRT_TRY(descendants_deepest_first(directory))) {
    auto procs = read_control(cgroup, "cgroup.procs");
    if (!procs && procs.error().code() == ENOENT) continue;
    if (!procs) return std::move(procs).error();
    for (const std::string& word : split_words(*procs)) {
      pid_t pid = 0;
      auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), pid);
      if (error != std::errc() || end != word.data() + word.size() || pid <= 0)
        return Error::invalid("read " + cgroup + "/cgroup.procs: not a pid: " + word);
      pids.insert(pid);
    }
  }
  return ok();
}

// Kills until nothing is left: a process may fork between reading cgroup.procs and the kill,
// so the list is read again after every round.
Result<void> kill_all(const std::vector<std::string>& directories, Clock::time_point deadline) {
  for (;;) {
    std::set<pid_t> pids;
    for (const std::string& directory : directories) {
      // cgroup.kill (Linux 5.14) kills the whole subtree with no race against fork.
      if (is_unified_directory(directory) && has_control(directory, "cgroup.kill")) {
        auto killed = write_control(directory, "cgroup.kill", "1");
        if (!killed && killed.error().code() != ENOENT) return killed;
      }
      PODRT_TRY(collect_processes(directory, pids));
    }
    if (pids.empty()) return ok();
    if (pids.count(::getpid()) != 0)
      return Error::invalid("kill processes in cgroup " + directories[0] +
                            ": the calling process is in it");
    if (Clock::now() > deadline)
      return Error::invalid("kill processes in cgroup " + directories[0] + ": " +
                            std::to_string(pids.size()) + " still running after " +
                            std::to_string(kPatience.count()) + " s, e.g. pid " +
                            std::to_string(*pids.begin()));
    for (pid_t pid : pids)
      if (::kill(pid, SIGKILL) != 0 && errno != ESRCH)
        return Error::from_errno("kill process " + std::to_string(pid) + " in cgroup " +
                                 directories[0]);
    std::this_thread::sleep_for(kPoll);
  }
}

Result<void> remove_all(const std::string& directory, Clock::time_point deadline) {
  for (const std::string& cgroup : PODRT_TRY(descendants_deepest_first(directory))) {
    // EBUSY while the killed processes finish exiting.
    while (::rmdir(cgroup.c_str()) != 0 && errno != ENOENT) {
      if (errno != EBUSY || Clock::now() > deadline)
        return Error::from_errno("remove cgroup " + cgroup);
      std::this_thread::sleep_for(kPoll);
    }
  }
  return ok();
}

}  // namespace

Result<void> Cgroup::destroy() const {
  if (directories_.empty()) return ok();
  Clock::time_point deadline = Clock::now() + kPatience;
  PODRT_TRY(kill_all(directories_, deadline));
  for (const std::string& directory : directories_) PODRT_TRY(remove_all(directory, deadline));
  return ok();
}

}  // namespace podrt::cgroups
