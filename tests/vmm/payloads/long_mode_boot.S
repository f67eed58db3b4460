// 64-bit guest entered through boot_cpu (boot GDT, identity page tables, long-mode sregs).
// A 64-bit add and a push/pop on the boot stack prove long mode and the stack work; then the
// boot-timer magic goes out as guest-init's would.
#include "tests/vmm/support/payload.h"

        .section .rodata
        .code64
        .globl payload_long_mode_boot_start, payload_long_mode_boot_end
payload_long_mode_boot_start:
        movabs $PODRT_PAYLOAD_LONG_MODE_RBX, %rbx
        add %rbx, %rbx
        push %rbx
        pop %rdi
        mov $PODRT_PAYLOAD_BOOT_TIMER_MAGIC, %al
        mov $PODRT_PAYLOAD_BOOT_TIMER_PORT, %dx
        out %al, %dx
        hlt
payload_long_mode_boot_end:

        .section .note.GNU-stack, "", @progbits
