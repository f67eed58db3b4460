#include "guest-init/boot_trace.h"

#include <sys/io.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/sys/file.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::guest_init {
namespace {

bool enabled = false;

}  // namespace

void signal_boot_timer() {
  namespace layout = vmm::layout;
  // Without port access (not PID 1 with CAP_SYS_RAWIO, say) there is nobody to tell.
  if (::ioperm(layout::kBootTimerPort, 1, 1) != 0) return;
  ::outb(layout::kBootTimerMagic, layout::kBootTimerPort);
  // Port access is not needed again: give it back.
  (void)::ioperm(layout::kBootTimerPort, 1, 0);
}

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
