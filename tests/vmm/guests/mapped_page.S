// A whole "kernel" for podrt-vmm whose message fills a page of its own, so the loader maps
// that page from the ELF file copy-on-write (GuestMemory::load). It prints the message, writes
// its first byte ('0' -> '1') and prints it again, then resets the machine: the write must
// reach the guest's copy of the page and never the file.
.code64
.globl _start
_start:
  mov $0x4f0, %dx
  mov $0x7b, %al
  outb %al, %dx
  call print
  incb message(%rip)
  call print
  mov $0xfe, %al
  outb %al, $0x64
  hlt
print:
  lea message(%rip), %rsi
  mov $0x3f8, %dx
1:
  lodsb
  test %al, %al
  jz 2f
  outb %al, %dx
  jmp 1b
2:
  ret
.balign 4096
message:
  .asciz "0 from a page mapped from the kernel file\n"
.balign 4096, 0
