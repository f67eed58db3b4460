// An undefined instruction with no IDT: a triple fault, how Linux reboots with reboot=t.
.code64
.globl _start
_start:
  ud2
