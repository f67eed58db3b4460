#include "stage1-kvm/x86/mptable.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace mptable;

GuestMemory allocate(uint64_t size = 16ull << 20) {
  auto memory = GuestMemory::allocate(size);
  EXPECT_TRUE(memory) << memory.error().message();
  return std::move(memory).value();
}

uint8_t sum(std::span<const uint8_t> bytes) {
  return std::accumulate(bytes.begin(), bytes.end(), uint8_t{0},
                         [](uint8_t total, uint8_t byte) { return uint8_t(total + byte); });
}

/// The table as Linux's MP parser sees it: located through the floating pointer, every entry
/// walked by its type's size.
struct ParsedTable {
  FloatingPointer pointer{};
  ConfigTableHeader header{};
  std::vector<ProcessorEntry> processors;
  std::vector<BusEntry> buses;
  std::vector<IoApicEntry> ioapics;
  std::vector<InterruptEntry> io_interrupts;
  std::vector<InterruptEntry> local_interrupts;
  uint64_t end = 0;
};

void parse(const GuestMemory& memory, ParsedTable& table) {
  auto pointer_bytes = memory.slice(layout::kMpTableAddress, sizeof(FloatingPointer));
  ASSERT_TRUE(pointer_bytes);
  std::memcpy(&table.pointer, pointer_bytes->data(), sizeof table.pointer);
  ASSERT_EQ(std::string(table.pointer.signature, 4), "_MP_");
  EXPECT_EQ(sum(*pointer_bytes), 0) << "floating pointer checksum";
  EXPECT_EQ(table.pointer.length, 1);
  EXPECT_EQ(table.pointer.spec_revision, kSpecRevision);
  EXPECT_EQ(table.pointer.feature[0], 0) << "a config table, not a default configuration";

  const uint64_t base = table.pointer.config_table_address;
  auto header = memory.read_object<ConfigTableHeader>(base);
  ASSERT_TRUE(header);
  table.header = *header;
  ASSERT_EQ(std::string(table.header.signature, 4), "PCMP");
  auto whole = memory.slice(base, table.header.base_table_length);
  ASSERT_TRUE(whole);
  EXPECT_EQ(sum(*whole), 0) << "config table checksum";
  table.end = base + table.header.base_table_length;

  uint64_t at = base + sizeof(ConfigTableHeader);
  for (uint16_t i = 0; i < table.header.entry_count; ++i) {
    ASSERT_LT(at, table.end) << "entry " << i << " past base_table_length";
    const uint8_t type = *memory.read_object<uint8_t>(at);
    switch (type) {
      case kProcessorEntry:
        table.processors.push_back(*memory.read_object<ProcessorEntry>(at));
        at += sizeof(ProcessorEntry);
        break;
      case kBusEntry:
        table.buses.push_back(*memory.read_object<BusEntry>(at));
        at += sizeof(BusEntry);
        break;
      case kIoApicEntry:
        table.ioapics.push_back(*memory.read_object<IoApicEntry>(at));
        at += sizeof(IoApicEntry);
        break;
      case kIoInterruptEntry:
        table.io_interrupts.push_back(*memory.read_object<InterruptEntry>(at));
        at += sizeof(InterruptEntry);
        break;
      case kLocalInterruptEntry:
        table.local_interrupts.push_back(*memory.read_object<InterruptEntry>(at));
        at += sizeof(InterruptEntry);
        break;
      default:
        FAIL() << "unknown entry type " << int{type} << " at " << at;
    }
  }
  EXPECT_EQ(at, table.end) << "entries fill base_table_length exactly";
}

void expect_table_for(uint32_t vcpus) {
  SCOPED_TRACE(std::to_string(vcpus) + " vCPUs");
  GuestMemory memory = allocate();
  ASSERT_TRUE(write_mptable(memory, vcpus));
  ParsedTable table;
  parse(memory, table);
  if (testing::Test::HasFatalFailure()) return;

  EXPECT_EQ(table.pointer.config_table_address, layout::kMpTableAddress + sizeof(FloatingPointer));
  EXPECT_LE(table.end, kTableLimit);
  EXPECT_EQ(table.header.spec_revision, kSpecRevision);
  EXPECT_EQ(table.header.local_apic_address, layout::kLocalApicAddress);
  EXPECT_EQ(table.header.entry_count, vcpus + 2 + kIoApicPins + 2);

  ASSERT_EQ(table.processors.size(), vcpus);
  for (uint32_t i = 0; i < vcpus; ++i) {
    EXPECT_EQ(table.processors[i].local_apic_id, i);
    EXPECT_EQ(table.processors[i].local_apic_version, kLocalApicVersion);
    EXPECT_TRUE(table.processors[i].cpu_flags & kProcessorEnabled);
    EXPECT_EQ(bool(table.processors[i].cpu_flags & kProcessorBootstrap), i == 0) << "vCPU " << i;
    EXPECT_TRUE(table.processors[i].feature_flags & kCpuFeatureApic);
  }
  ASSERT_EQ(table.buses.size(), 1u);
  EXPECT_EQ(std::string(table.buses[0].bus_type, 6), "ISA   ");
  ASSERT_EQ(table.ioapics.size(), 1u);
  EXPECT_EQ(table.ioapics[0].id, vcpus) << "after every local APIC id";
  EXPECT_EQ(table.ioapics[0].version, kIoApicVersion);
  EXPECT_EQ(table.ioapics[0].address, layout::kIoApicAddress);
  EXPECT_TRUE(table.ioapics[0].flags & kIoApicEnabled);

  ASSERT_EQ(table.io_interrupts.size(), kIoApicPins);
  for (uint32_t pin = 0; pin < kIoApicPins; ++pin) {
    const InterruptEntry& entry = table.io_interrupts[pin];
    EXPECT_EQ(entry.interrupt_type, kInterruptInt);
    EXPECT_EQ(entry.source_bus_id, table.buses[0].bus_id);
    EXPECT_EQ(entry.source_bus_irq, pin);
    EXPECT_EQ(entry.destination_id, table.ioapics[0].id);
    EXPECT_EQ(entry.destination_pin, pin);
  }
  ASSERT_EQ(table.local_interrupts.size(), 2u);
  EXPECT_EQ(table.local_interrupts[0].interrupt_type, kInterruptExtInt);
  EXPECT_EQ(table.local_interrupts[0].destination_pin, 0) << "LINT0";
  EXPECT_EQ(table.local_interrupts[1].interrupt_type, kInterruptNmi);
  EXPECT_EQ(table.local_interrupts[1].destination_pin, 1) << "LINT1";
  for (const InterruptEntry& entry : table.local_interrupts) EXPECT_EQ(entry.destination_id, kAllLocalApics);
}

TEST(MpTableTest, OneVcpu) { expect_table_for(1); }
TEST(MpTableTest, FourVcpus) { expect_table_for(4); }
TEST(MpTableTest, MostVcpus) { expect_table_for(max_mptable_vcpus()); }

TEST(MpTableTest, MaxVcpusIsWhatFitsBelowTheVgaHole) {
  const uint32_t most = max_mptable_vcpus();
  EXPECT_EQ(most, 37u) << "(1 KiB - the fixed entries) / 20-byte processor entries";
  EXPECT_LE(layout::kMpTableAddress + table_size(most), kTableLimit);
  EXPECT_GT(layout::kMpTableAddress + table_size(most + 1), kTableLimit);
}

TEST(MpTableTest, RefusesVcpuCountsItCannotHold) {
  GuestMemory memory = allocate();
  auto none = write_mptable(memory, 0);
  ASSERT_FALSE(none);
  auto too_many = write_mptable(memory, max_mptable_vcpus() + 1);
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message().find("1.." + std::to_string(max_mptable_vcpus())), std::string::npos)
      << too_many.error().message();
  EXPECT_EQ(*memory.read_object<uint32_t>(layout::kMpTableAddress), 0u) << "nothing written";
}

TEST(MpTableTest, FailsCleanlyWhenMemoryIsTooSmall) {
  GuestMemory memory = allocate(0x9f000);
  EXPECT_FALSE(write_mptable(memory, 1));
}

}  // namespace
}  // namespace podrt::vmm
