// Stores to a guest-physical address no device and no RAM backs: the VM must stop with an error.
.code64
.globl _start
_start:
  mov $0xe0000000, %rax
  movl $0x1234, (%rax)
  hlt
