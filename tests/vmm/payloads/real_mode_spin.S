// 16-bit real-mode guest that never exits on its own: stopping it takes immediate_exit + a signal.
        .section .rodata
        .code16
        .globl payload_real_mode_spin_start, payload_real_mode_spin_end
payload_real_mode_spin_start:
1:      jmp 1b
payload_real_mode_spin_end:

        .section .note.GNU-stack, "", @progbits
