// 64-bit guest that raises #UD with the boot tables' empty IDT: #UD -> #NP (no gate) -> #DF ->
// shutdown. (Not int3: this host's nested KVM reports #BP through a missing gate as an internal
// emulation error instead of delivering it.)
        .section .rodata
        .code64
        .globl payload_long_mode_triple_fault_start, payload_long_mode_triple_fault_end
payload_long_mode_triple_fault_start:
        ud2
payload_long_mode_triple_fault_end:

        .section .note.GNU-stack, "", @progbits
