#include "stage1-kvm/x86/boot_tables.h"

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm::boot_tables {
namespace {

// Access bytes: present, ring 0, code/data (S=1), then the type.
constexpr uint8_t kCodeExecuteReadAccessed = 0x9b;
constexpr uint8_t kDataReadWriteAccessed = 0x93;
// Flags nibbles: G (4 KiB granularity) with L (64-bit code) or D/B (32-bit data).
constexpr uint8_t kFlagsCode64 = 0xa;
constexpr uint8_t kFlagsData32 = 0xc;
constexpr uint32_t kFlatLimit = 0xfffff;  // with G: 4 GiB

constexpr uint64_t kEntriesPerTable = 512;
constexpr uint64_t kPageTableSize = 4096;

static_assert(layout::kGdtAddress + kGdtEntryCount * 8 <= layout::kIdtAddress,
              "the GDT must end before the IDT");
static_assert(layout::kPdptAddress == layout::kPml4Address + kPageTableSize);
static_assert(layout::kPageDirectoryAddress == layout::kPdptAddress + kPageTableSize);
static_assert(layout::kPageDirectoryCount <= kEntriesPerTable);

}  // namespace

std::array<uint64_t, kGdtEntryCount> boot_gdt() {
  return {
      0,  // the null descriptor
      0,  // unused: Linux's boot protocol fixes code and data at 0x10 and 0x18
      gdt_entry(kCodeExecuteReadAccessed, kFlagsCode64, 0, kFlatLimit),
      gdt_entry(kDataReadWriteAccessed, kFlagsData32, 0, kFlatLimit),
  };
}

kvm_segment segment_for_selector(uint16_t selector) {
  const uint64_t entry = boot_gdt().at(selector >> 3);
  const uint32_t limit_field = static_cast<uint32_t>((entry & 0xffff) | ((entry >> 32) & 0xf0000));
  const uint8_t access = static_cast<uint8_t>(entry >> 40);
  const uint8_t flags = static_cast<uint8_t>((entry >> 52) & 0xf);
  kvm_segment segment{};
  segment.base = ((entry >> 16) & 0xffffff) | ((entry >> 32) & 0xff000000);
  segment.g = (flags >> 3) & 1;
  // KVM wants the limit in bytes: with G it scales by 4 KiB pages, low bits all ones.
  segment.limit = segment.g ? (limit_field << 12) | 0xfff : limit_field;
  segment.selector = selector;
  segment.type = access & 0xf;
  segment.s = (access >> 4) & 1;
  segment.dpl = (access >> 5) & 3;
  segment.present = (access >> 7) & 1;
  segment.avl = flags & 1;
  segment.l = (flags >> 1) & 1;
  segment.db = (flags >> 2) & 1;
  return segment;
}

}  // namespace podrt::vmm::boot_tables

namespace podrt::vmm {

Result<void> write_boot_tables(const GuestMemory& memory) {
  using namespace boot_tables;
  const auto gdt = boot_gdt();
  PODRT_TRY_CONTEXT(memory.write_object(layout::kGdtAddress, gdt), "write the boot GDT");
  PODRT_TRY_CONTEXT(memory.write_object(layout::kIdtAddress, uint64_t{0}), "write the boot IDT");

  // Whole tables, not just the used entries: nothing is left to what memory held before.
  std::array<uint64_t, kEntriesPerTable> pml4{};
  pml4[0] = layout::kPdptAddress | kPagePresent | kPageWritable;
  PODRT_TRY_CONTEXT(memory.write_object(layout::kPml4Address, pml4), "write the boot PML4");
  std::array<uint64_t, kEntriesPerTable> pdpt{};
  for (uint64_t directory = 0; directory < layout::kPageDirectoryCount; ++directory)
    pdpt[directory] = (layout::kPageDirectoryAddress + directory * kPageTableSize) |
                      kPagePresent | kPageWritable;
  PODRT_TRY_CONTEXT(memory.write_object(layout::kPdptAddress, pdpt), "write the boot PDPT");
  for (uint64_t directory = 0; directory < layout::kPageDirectoryCount; ++directory) {
    const uint64_t directory_address = layout::kPageDirectoryAddress + directory * kPageTableSize;
    std::array<uint64_t, kEntriesPerTable> entries{};
    for (uint64_t i = 0; i < kEntriesPerTable; ++i) {
      const uint64_t physical = (directory * kEntriesPerTable + i) * kLargePageSize;
      entries[i] = physical | kPagePresent | kPageWritable | kPageLarge;
    }
    PODRT_TRY_CONTEXT(memory.write_object(directory_address, entries),
                      "write boot page directory " + std::to_string(directory));
  }
  return ok();
}

}  // namespace podrt::vmm
