// A whole "kernel" for podrt-vmm: entered in 64-bit mode at its ELF entry, it writes the
// boot-timer magic, "hello" on COM1, and resets the machine through the i8042 (exit 0).
.code64
.globl _start
_start:
  mov $0x4f0, %dx
  mov $0x7b, %al
  outb %al, %dx
  lea message(%rip), %rsi
  mov $0x3f8, %dx
1:
  lodsb
  test %al, %al
  jz 2f
  outb %al, %dx
  jmp 1b
2:
  mov $0xfe, %al
  outb %al, $0x64
  hlt
message:
  .asciz "hello from the payload\n"
