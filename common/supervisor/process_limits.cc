#include "common/supervisor/process_limits.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "common/sys/file.h"

namespace podrt::supervisor {
namespace {

struct RlimitName {
  std::string_view name;
  int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

}  // namespace

Result<int> rlimit_resource_from_name(std::string_view name) {
  for (const RlimitName& entry : kRlimits)
    if (entry.name == name) return entry.resource;
  return Error::invalid("unknown resource limit \"" + std::string(name) + "\"");
}

Result<void> apply_rlimits(const std::vector<ResourceLimit>& limits) {
  for (const ResourceLimit& limit : limits) {
    int resource = PODRT_TRY(rlimit_resource_from_name(limit.name));
    struct rlimit value = {static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)};
    if (::setrlimit(static_cast<__rlimit_resource_t>(resource), &value) != 0)
      return Error::from_errno("set " + limit.name + " to " + std::to_string(limit.soft) + "/" +
                               std::to_string(limit.hard));
  }
  return ok();
}

Result<void> set_oom_score_adj(int score) {
  const std::string path = "/proc/self/oom_score_adj";
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_WRONLY));
  std::string text = std::to_string(score);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return Error::from_errno("set oom_score_adj to " + text);
  return ok();
}

}  // namespace podrt::supervisor
