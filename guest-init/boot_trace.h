// Phase timestamps of guest-init on the console (the guest's clock since boot), when the
// kernel command line has `podrt.trace` (stage1-kvm adds it with --debug): where a kvm pod's
// start goes, seen from inside. And the boot-timer port write, which tells the builtin VMM the
// moment guest-init runs (stage1-kvm/x86/layout.h: kBootTimerPort).
#pragma once

namespace podrt::guest_init {

/// Writes kBootTimerMagic to kBootTimerPort, once, as guest-init starts: the builtin VMM times
/// the boot up to here. Harmless under QEMU (an unassigned port); skipped if ioperm is refused.
void signal_boot_timer();

/// Reads /proc/cmdline once; call after /proc is mounted.
void enable_trace_from_cmdline();
/// "guest-init: 1234.5 ms PHASE" on stderr, if enabled.
void trace(const char* phase);

}  // namespace podrt::guest_init
