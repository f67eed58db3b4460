#include "guest-init/boot_trace.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/sys/file.h"

namespace podrt::guest_init {
namespace {

bool enabled = false;

}  // namespace

void enable_trace_from_cmdline() {
  auto cmdline = sys::read_file("/proc/cmdline");
  enabled = cmdline && cmdline->find("podrt.trace") != std::string::npos;
}

void trace(const char* phase) {
  if (!enabled) return;
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  double ms = static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
  ::dprintf(STDERR_FILENO, "guest-init: %.1f ms %s\n", ms, phase);
}

}  // namespace podrt::guest_init
