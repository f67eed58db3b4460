// The only way out of guest-init: PID 1 must never exit (the kernel panics), so every path
// ends the VM. The host runs QEMU with -no-reboot and the kernel with reboot=t, so a reboot
// ends the VM within milliseconds, where a halt or power-off may leave it running.
#pragma once

namespace podrt::guest_init {

/// Syncs the filesystems and reboots (ends) the VM. Never returns.
[[noreturn]] void end_vm();

}  // namespace podrt::guest_init
