// podrt-pod-init --plan-fd=N: PID 1 of a stage1-ns pod. Reads the PodPlan JSON stage1 left in
// fd N (a memfd), runs the pod and exits with its code; 254 when it cannot even start.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/supervisor/supervisor.h"

namespace {

using podrt::supervisor::kExitPodrtFailure;

constexpr std::string_view kUsage = "usage: podrt-pod-init --plan-fd=N";

int parse_plan_fd(int argc, char** argv) {
  if (argc != 2) return -1;
  std::string_view arg = argv[1];
  constexpr std::string_view kPrefix = "--plan-fd=";
  if (arg.substr(0, kPrefix.size()) != kPrefix || arg.size() == kPrefix.size()) return -1;
  std::string digits(arg.substr(kPrefix.size()));
  char* end = nullptr;
  errno = 0;
  long fd = std::strtol(digits.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || digits[0] < '0' || digits[0] > '9' || fd > 1 << 20)
    return -1;
  return static_cast<int>(fd);
}

// From offset 0 whatever the writer left the offset at; a pipe works too.
bool read_plan(int fd, std::string& text) {
  char buffer[16384];
  off_t offset = 0;
  bool seekable = true;
  for (;;) {
    ssize_t n = seekable ? ::pread(fd, buffer, sizeof buffer, offset) : ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == ESPIPE && seekable) {
      seekable = false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
    if (text.size() > (64u << 20)) {
      errno = EFBIG;
      return false;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int fd = parse_plan_fd(argc, argv);
  if (fd < 0) {
    podrt::log::error(kUsage);
    return kExitPodrtFailure;
  }
  std::string text;
  bool read = read_plan(fd, text);
  int read_errno = errno;
  ::close(fd);
  if (!read) {
    podrt::log::error("read the pod plan from fd " + std::to_string(fd) + ": " +
                      std::strerror(read_errno));
    return kExitPodrtFailure;
  }
  auto plan = podrt::supervisor::parse_pod_plan(text);
  if (!plan) {
    podrt::log::error(plan.error().message());
    return kExitPodrtFailure;
  }
  text = std::string();  // the plan is parsed; give the memory back
  return podrt::supervisor::run_pod(*plan);
}
