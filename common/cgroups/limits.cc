// Applying appc resource isolators to a cgroup, and reading back what the OOM killer did.
#include <cerrno>
#include <limits>
#include <optional>

#include "common/cgroups/cgroup.h"
#include "common/cgroups/control_file.h"

namespace podrt::cgroups {

namespace {

constexpr uint64_t kCpuPeriodUs = 100000;
// cpu.shares bounds (kernel MIN_SHARES, MAX_SHARES); cpu.weight runs from 1 to 10000.
constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
// The kernel refuses a CFS quota below 1 ms.
constexpr uint64_t kMinQuotaUs = 1000;

// The directory that holds `file`: which hierarchy carries a controller is told by its files,
// so that adopted cgroups (directories only) need no Hierarchies.
std::optional<std::string> holding(const std::vector<std::string>& directories,
                                   std::string_view v1_file, std::string_view v2_file) {
  for (const std::string& directory : directories) {
    bool unified = is_unified_directory(directory);
    if (has_control(directory, unified ? v2_file : v1_file)) return directory;
  }
  return std::nullopt;
}

Result<void> apply_memory(const std::string& directory, uint64_t bytes) {
  std::string value = std::to_string(bytes);
  if (is_unified_directory(directory)) {
    PODRT_TRY(write_control(directory, "memory.max", value));
    // Without this the limit only pushes the pod into swap.
    if (has_control(directory, "memory.swap.max"))
      PODRT_TRY(write_control(directory, "memory.swap.max", "0"));
    return ok();
  }
  // v1 wants memsw >= the limit at every moment: on raising an old limit memsw goes first.
  bool memsw = has_control(directory, "memory.memsw.limit_in_bytes");
  auto limited = write_control(directory, "memory.limit_in_bytes", value);
  if (!limited && !memsw) return limited;
  if (memsw) PODRT_TRY(write_control(directory, "memory.memsw.limit_in_bytes", value));
  if (!limited) PODRT_TRY(write_control(directory, "memory.limit_in_bytes", value));
  return ok();
}

Result<void> apply_cpu(const std::string& directory, const CgroupLimits& limits) {
  bool unified = is_unified_directory(directory);
  if (limits.cpu_shares) {
    uint64_t shares = *limits.cpu_shares;
    // systemd's and crun's mapping of [2, 262144] onto [1, 10000].
    uint64_t weight = 1 + ((shares - kMinShares) * 9999) / (kMaxShares - kMinShares);
    if (unified)
      PODRT_TRY(write_control(directory, "cpu.weight", std::to_string(weight)));
    else
      PODRT_TRY(write_control(directory, "cpu.shares", std::to_string(shares)));
  }
  if (limits.cpu_millicores) {
    std::string quota = std::to_string(*limits.cpu_millicores * 100);
    if (unified) {
      PODRT_TRY(write_control(directory, "cpu.max", quota + " " + std::to_string(kCpuPeriodUs)));
    } else {
      PODRT_TRY(write_control(directory, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
      PODRT_TRY(write_control(directory, "cpu.cfs_quota_us", quota));
    }
  }
  return ok();
}

Result<void> check(const CgroupLimits& limits) {
  if (limits.memory_bytes && *limits.memory_bytes == 0)
    return Error::invalid("memory limit 0 is not a limit");
  if (limits.pids_max && *limits.pids_max == 0)
    return Error::invalid("pids limit 0 would stop every process from starting");
  if (limits.cpu_shares && (*limits.cpu_shares < kMinShares || *limits.cpu_shares > kMaxShares))
    return Error::invalid("cpu shares " + std::to_string(*limits.cpu_shares) +
                          " is outside 2..262144");
  if (limits.cpu_millicores &&
      (*limits.cpu_millicores * 100 < kMinQuotaUs ||
       *limits.cpu_millicores > std::numeric_limits<uint64_t>::max() / 100))
    return Error::invalid("cpu limit " + std::to_string(*limits.cpu_millicores) +
                          "m is outside what the kernel accepts (at least 10m)");
  return ok();
}

}  // namespace

Result<void> Cgroup::apply(const CgroupLimits& limits) const {
  std::string what =
      "apply limits to cgroup " + (directories_.empty() ? std::string("?") : directories_[0]);
  PODRT_TRY_CONTEXT(check(limits), what);
  auto missing = [&](std::string_view controller) {
    return Error::invalid(what + ": no hierarchy has the " + std::string(controller) +
                          " controller");
  };
  if (limits.memory_bytes) {
    auto directory = holding(directories_, "memory.limit_in_bytes", "memory.max");
    if (!directory) return missing("memory");
    PODRT_TRY_CONTEXT(apply_memory(*directory, *limits.memory_bytes), what);
  }
  if (limits.cpu_shares || limits.cpu_millicores) {
    auto directory = holding(directories_, "cpu.shares", "cpu.weight");
    if (!directory) return missing("cpu");
    PODRT_TRY_CONTEXT(apply_cpu(*directory, limits), what);
  }
  if (limits.pids_max) {
    auto directory = holding(directories_, "pids.max", "pids.max");
    if (!directory) return missing("pids");
    PODRT_TRY_CONTEXT(write_control(*directory, "pids.max", std::to_string(*limits.pids_max)),
                      what);
  }
  return ok();
}

Result<uint64_t> Cgroup::oom_kill_count() const {
  for (const std::string& directory : directories_) {
    if (has_control(directory, "memory.events")) {
      // v2 counts kills in the whole subtree here.
      std::string events = PODRT_TRY(read_control(directory, "memory.events"));
      return keyed_value(events, "oom_kill", directory + "/memory.events");
    }
    if (has_control(directory, "memory.oom_control")) {
      // v1 counts each kill in the victim's own cgroup only: add up the subtree.
      uint64_t total = 0;
      for (const std::string& cgroup : PODRT_TRY(descendants_deepest_first(directory))) {
        auto control = read_control(cgroup, "memory.oom_control");
        if (!control && control.error().code() == ENOENT) continue;  // removed meanwhile
        if (!control) return std::move(control).error();
        total += PODRT_TRY(keyed_value(*control, "oom_kill", cgroup + "/memory.oom_control"));
      }
      return total;
    }
  }
  return uint64_t{0};
}

}  // namespace podrt::cgroups
