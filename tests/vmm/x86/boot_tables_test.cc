#include "stage1-kvm/x86/boot_tables.h"

#include <gtest/gtest.h>

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace boot_tables;

TEST(BootTables, GdtHasLinuxBootSelectorsAsFlatSegments) {
  const auto gdt = boot_gdt();
  EXPECT_EQ(gdt[0], 0u);
  EXPECT_EQ(gdt[kCodeSelector >> 3], 0x00af9b000000ffffull) << "64-bit code, execute/read";
  EXPECT_EQ(gdt[kDataSelector >> 3], 0x00cf93000000ffffull) << "32-bit data, read/write";
}

TEST(BootTables, SegmentsDecodeFromTheGdt) {
  const kvm_segment code = segment_for_selector(kCodeSelector);
  EXPECT_EQ(code.selector, kCodeSelector);
  EXPECT_EQ(code.base, 0u);
  EXPECT_EQ(code.limit, 0xffffffffu);
  EXPECT_EQ(code.type, 0xb);
  EXPECT_EQ(code.present, 1);
  EXPECT_EQ(code.dpl, 0);
  EXPECT_EQ(code.s, 1);
  EXPECT_EQ(code.l, 1);
  EXPECT_EQ(code.db, 0) << "L and D together are reserved";
  EXPECT_EQ(code.g, 1);

  const kvm_segment data = segment_for_selector(kDataSelector);
  EXPECT_EQ(data.selector, kDataSelector);
  EXPECT_EQ(data.limit, 0xffffffffu);
  EXPECT_EQ(data.type, 0x3);
  EXPECT_EQ(data.l, 0);
  EXPECT_EQ(data.db, 1);
  EXPECT_EQ(data.present, 1);
}

TEST(BootTables, GdtEntryEncodesEveryField) {
  EXPECT_EQ(gdt_entry(0x89, 0x4, 0x12345678, 0xabcde), 0x124a89345678bcdeull);
}

TEST(BootTables, WritesGdtIdtAndIdentityPageTables) {
  auto memory = GuestMemory::allocate(1 << 20);
  ASSERT_TRUE(memory);
  // Leftovers in the tables' pages must not survive.
  ASSERT_TRUE(memory->write_object(layout::kPml4Address + 8, uint64_t{0xdead}));
  ASSERT_TRUE(write_boot_tables(*memory));

  for (size_t i = 0; i < kGdtEntryCount; ++i)
    EXPECT_EQ(*memory->read_object<uint64_t>(layout::kGdtAddress + i * 8), boot_gdt()[i]);
  EXPECT_EQ(*memory->read_object<uint64_t>(layout::kIdtAddress), 0u);

  EXPECT_EQ(*memory->read_object<uint64_t>(layout::kPml4Address), layout::kPdptAddress | 0x3);
  EXPECT_EQ(*memory->read_object<uint64_t>(layout::kPml4Address + 8), 0u);
  for (uint64_t d = 0; d < 512; ++d) {
    const uint64_t pdpte = *memory->read_object<uint64_t>(layout::kPdptAddress + d * 8);
    if (d < layout::kPageDirectoryCount)
      EXPECT_EQ(pdpte, (layout::kPageDirectoryAddress + d * 0x1000) | 0x3);
    else
      EXPECT_EQ(pdpte, 0u) << "PDPT entry " << d;
  }
  // Walk a few addresses the way the CPU would: each maps to itself.
  for (uint64_t address : {uint64_t{0}, layout::kHighRamStart + 0x1234, uint64_t{16} << 20,
                           layout::kMmioStart + 0x50, layout::kIoApicAddress,
                           layout::kLocalApicAddress + 0x20, uint64_t{0xffffffff}}) {
    const uint64_t pdpte = *memory->read_object<uint64_t>(layout::kPdptAddress + (address >> 30) * 8);
    const uint64_t pde =
        *memory->read_object<uint64_t>((pdpte & ~0xfffull) + ((address >> 21) & 511) * 8);
    EXPECT_EQ(pde & 0x83, 0x83u) << "present, writable, 2 MiB at " << std::hex << address;
    EXPECT_EQ((pde & ~0xfffull) | (address & 0x1fffff), address) << std::hex << address;
  }
}

TEST(BootTables, TooSmallMemoryIsAnError) {
  auto memory = GuestMemory::allocate(0x4000);  // ends before the PML4
  ASSERT_TRUE(memory);
  auto written = write_boot_tables(*memory);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message().find("write the boot PML4"), std::string::npos)
      << written.error().message();
}

}  // namespace
}  // namespace podrt::vmm
