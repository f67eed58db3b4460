// The builtin VMM's x86_64 machine: every guest-physical address and interrupt it uses, named
// once. The layout follows what Linux expects of a PC without firmware (Documentation/arch/x86/
// boot.rst, zero-page.rst) and what kvmtool and Firecracker use:
//
//   0x0000_0500  GDT (4 entries)           0x0000_7000  zero page (struct boot_params)
//   0x0000_0520  IDT (empty)               0x0000_9000  PML4, 0xa000 PDPT, 0xb000.. PDs
//   0x0002_0000  kernel command line       0x0009_fc00  MP table (EBDA), up to 0xa0000
//   0x000a_0000  legacy hole to 1 MiB      0x0010_0000  RAM above the hole; the kernel loads at
//                                                       its own p_paddr (16 MiB for vmlinux)
//   top of RAM   initrd, page-aligned      0xd000_0000  virtio-mmio devices, 4 KiB each
//   0xfec0_0000  IOAPIC (in-kernel)        0xfee0_0000  local APIC (in-kernel)
#pragma once

#include <cstdint>

namespace podrt::vmm::layout {

// Low memory: what the VMM writes before the first instruction.
inline constexpr uint64_t kGdtAddress = 0x500;
inline constexpr uint64_t kIdtAddress = 0x520;
inline constexpr uint64_t kZeroPageAddress = 0x7000;
inline constexpr uint64_t kPml4Address = 0x9000;
inline constexpr uint64_t kPdptAddress = 0xa000;
/// Four page directories of 2 MiB pages: the first 4 GiB identity-mapped.
inline constexpr uint64_t kPageDirectoryAddress = 0xb000;
inline constexpr uint64_t kPageDirectoryCount = 4;
inline constexpr uint64_t kCommandLineAddress = 0x20000;
/// Linux x86's COMMAND_LINE_SIZE, terminating NUL included.
inline constexpr uint64_t kCommandLineMaxSize = 2048;
/// The boot stack; the kernel switches to its own at once.
inline constexpr uint64_t kBootStackPointer = 0x8ff0;
inline constexpr uint64_t kMpTableAddress = 0x9fc00;

// RAM as e820 reports it: [0, kLowRamEnd) and [kHighRamStart, size).
inline constexpr uint64_t kLowRamEnd = 0x9fc00;
inline constexpr uint64_t kHighRamStart = 0x100000;
/// Where a bzImage's protected-mode kernel goes (its header's pref_address if relocatable).
inline constexpr uint64_t kBzImageLoadAddress = 0x100000;

/// RAM must end below the MMIO window: one contiguous slot from guest-physical 0.
inline constexpr uint64_t kMmioStart = 0xd0000000;
inline constexpr uint64_t kMaxMemory = kMmioStart;
inline constexpr uint64_t kMinMemory = 16ull << 20;

/// virtio-mmio device i sits at kVirtioMmioBase + i * kVirtioMmioSize with interrupt
/// kVirtioFirstIrq + i.
inline constexpr uint64_t kVirtioMmioBase = kMmioStart;
inline constexpr uint64_t kVirtioMmioSize = 0x1000;
inline constexpr uint32_t kVirtioFirstIrq = 5;
/// IOAPIC pins 5..23 are free for virtio devices.
inline constexpr uint32_t kMaxVirtioDevices = 19;

inline constexpr uint64_t kIoApicAddress = 0xfec00000;
inline constexpr uint64_t kLocalApicAddress = 0xfee00000;
/// KVM_SET_TSS_ADDR wants three pages and KVM_SET_IDENTITY_MAP_ADDR one, below 4 GiB and
/// outside RAM and MMIO (Intel only needs them; set on every host for one layout).
inline constexpr uint64_t kTssAddress = 0xfffbd000;
inline constexpr uint64_t kIdentityMapAddress = 0xfffbc000;

// Port I/O.
inline constexpr uint16_t kSerialPort = 0x3f8;  ///< COM1, 8 registers
inline constexpr uint32_t kSerialIrq = 4;
inline constexpr uint16_t kI8042DataPort = 0x60;
inline constexpr uint16_t kI8042CommandPort = 0x64;
/// The boot-timer pseudo-device: guest-init writes kBootTimerMagic here once it runs
/// (guest-init/boot_trace). Unassigned on a PC, so the write is harmless under QEMU.
inline constexpr uint16_t kBootTimerPort = 0x4f0;
inline constexpr uint8_t kBootTimerMagic = 0x7b;

}  // namespace podrt::vmm::layout
