// 16-bit real-mode guest: every kind of port and MMIO exit the VMM decodes, then HLT. Loaded at
// PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS with DS = ES = 0 and FS based at the MMIO window.
#include "tests/vmm/support/payload.h"

        .section .rodata
        .code16
        .globl payload_real_mode_io_start, payload_real_mode_io_end
payload_real_mode_io_start:
        mov $PODRT_PAYLOAD_OUT_VALUE, %al
        out %al, $PODRT_PAYLOAD_OUT_PORT            // exit: OUT of a known byte
        in $PODRT_PAYLOAD_IN_PORT, %al              // exit: IN, the test answers
        out %al, $PODRT_PAYLOAD_ECHO_PORT           // exit: the answer echoed
        movl $PODRT_PAYLOAD_MMIO_WRITE_VALUE, %fs:PODRT_PAYLOAD_MMIO_WRITE_OFFSET  // MMIO store
        movl %fs:PODRT_PAYLOAD_MMIO_READ_OFFSET, %eax                             // MMIO load
        outl %eax, $PODRT_PAYLOAD_ECHO_PORT         // exit: the loaded value echoed, 4 bytes
        cld
        mov $PODRT_PAYLOAD_STRING_LENGTH, %cx
        mov $(PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS + message - payload_real_mode_io_start), %si
        mov $PODRT_PAYLOAD_STRING_PORT, %dx
        rep outsb                                   // exit(s): count > 1 string output
        mov $PODRT_PAYLOAD_STRING_LENGTH, %cx
        mov $PODRT_PAYLOAD_STRING_IN_ADDRESS, %di
        rep insb                                    // exit(s): count > 1 string input
        hlt
message:
        .ascii "abc"
payload_real_mode_io_end:

        .section .note.GNU-stack, "", @progbits
