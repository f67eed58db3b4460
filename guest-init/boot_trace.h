// Phase timestamps of guest-init on the console (the guest's clock since boot), when the
// kernel command line has `podrt.trace` (stage1-kvm adds it with --debug): where a kvm pod's
// start goes, seen from inside.
#pragma once

namespace podrt::guest_init {

/// Reads /proc/cmdline once; call after /proc is mounted.
void enable_trace_from_cmdline();
/// "guest-init: 1234.5 ms PHASE" on stderr, if enabled.
void trace(const char* phase);

}  // namespace podrt::guest_init
