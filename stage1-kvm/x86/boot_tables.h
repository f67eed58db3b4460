// The tables a 64-bit guest needs before its first instruction, written into guest memory once
// per VM at the layout.h addresses:
//   GDT   four 8-byte entries: 0 null, 1 unused (null), 2 flat 64-bit code, 3 flat data. Linux's
//         64-bit boot protocol (Documentation/arch/x86/boot.rst) wants exactly __BOOT_CS = 0x10
//         and __BOOT_DS = 0x18 as 4 GiB flat segments.
//   IDT   one empty 8-byte entry: any exception before the kernel loads its own IDT is a triple
//         fault (a clean KVM_EXIT_SHUTDOWN), never a jump into garbage.
//   pages PML4 -> PDPT -> kPageDirectoryCount page directories of 2 MiB pages, identity-mapping
//         the first 4 GiB (RAM, the MMIO window, the IOAPIC and local APIC).
#pragma once

#include <linux/kvm.h>

#include <array>
#include <cstdint>

#include "common/result.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm::boot_tables {

inline constexpr uint16_t kCodeSelector = 0x10;  ///< Linux's __BOOT_CS
inline constexpr uint16_t kDataSelector = 0x18;  ///< Linux's __BOOT_DS
inline constexpr size_t kGdtEntryCount = 4;
/// The empty IDT's size: one null gate's worth, so its limit is 7.
inline constexpr uint64_t kIdtSize = 8;

// Page-table entry bits.
inline constexpr uint64_t kPagePresent = 1ull << 0;
inline constexpr uint64_t kPageWritable = 1ull << 1;
inline constexpr uint64_t kPageLarge = 1ull << 7;  ///< a 2 MiB page in a page directory
inline constexpr uint64_t kLargePageSize = 2ull << 20;

/// An 8-byte segment descriptor from its access byte (P, DPL, S, type), its flags nibble (G,
/// D/B, L, AVL), base and 20-bit limit.
constexpr uint64_t gdt_entry(uint8_t access, uint8_t flags, uint32_t base, uint32_t limit) {
  return (static_cast<uint64_t>(base & 0xff000000u) << 32) |
         (static_cast<uint64_t>(flags & 0xfu) << 52) |
         (static_cast<uint64_t>((limit >> 16) & 0xfu) << 48) |
         (static_cast<uint64_t>(access) << 40) |
         (static_cast<uint64_t>(base & 0x00ffffffu) << 16) | (limit & 0xffffu);
}

/// The GDT as written to layout::kGdtAddress.
std::array<uint64_t, kGdtEntryCount> boot_gdt();

/// The kvm_segment KVM_SET_SREGS needs for `selector`, decoded from the GDT entry it selects,
/// so that the hidden segment state and the table in memory cannot disagree.
kvm_segment segment_for_selector(uint16_t selector);

}  // namespace podrt::vmm::boot_tables

namespace podrt::vmm {

/// Writes the GDT, IDT and page tables, once per VM. Needs guest memory up to the last page
/// directory.
Result<void> write_boot_tables(const GuestMemory& memory);

}  // namespace podrt::vmm
