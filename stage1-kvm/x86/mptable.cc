#include "stage1-kvm/x86/mptable.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace mptable;

static_assert(layout::kMpTableAddress < kTableLimit);
static_assert(table_size(1) <= kTableLimit - layout::kMpTableAddress);

template <class T>
void append(std::vector<uint8_t>& table, const T& entry) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&entry);
  table.insert(table.end(), bytes, bytes + sizeof entry);
}

/// The byte that makes `bytes` (whose checksum byte is still 0) sum to 0 modulo 256.
uint8_t checksum(std::span<const uint8_t> bytes) {
  const uint8_t sum = std::accumulate(bytes.begin(), bytes.end(), uint8_t{0},
                                      [](uint8_t total, uint8_t byte) { return uint8_t(total + byte); });
  return static_cast<uint8_t>(-sum);
}

template <size_t N>
void copy_text(char (&field)[N], const char* text) {
  std::memset(field, ' ', N);
  std::memcpy(field, text, std::min(N, std::strlen(text)));
}

}  // namespace

uint32_t max_mptable_vcpus() {
  const uint64_t room = kTableLimit - layout::kMpTableAddress;
  const uint64_t by_space = (room - table_size(0)) / sizeof(ProcessorEntry);
  // APIC ids 0..n-1 and the IOAPIC's id n all below 0xff (the broadcast id).
  return static_cast<uint32_t>(std::min<uint64_t>(by_space, 0xfe));
}

Result<void> write_mptable(const GuestMemory& memory, uint32_t vcpu_count) {
  if (vcpu_count == 0 || vcpu_count > max_mptable_vcpus())
    return Error::invalid("MP table: " + std::to_string(vcpu_count) + " vCPUs; it holds 1.." +
                          std::to_string(max_mptable_vcpus()));
  const uint64_t config_address = layout::kMpTableAddress + sizeof(FloatingPointer);
  const uint8_t ioapic_id = static_cast<uint8_t>(vcpu_count);

  // The config table, built here and written at once; its header is filled in last.
  std::vector<uint8_t> table;
  append(table, ConfigTableHeader{});
  uint16_t entry_count = 0;
  for (uint32_t index = 0; index < vcpu_count; ++index) {
    ProcessorEntry processor{};
    processor.type = kProcessorEntry;
    processor.local_apic_id = static_cast<uint8_t>(index);
    processor.local_apic_version = kLocalApicVersion;
    processor.cpu_flags = kProcessorEnabled | (index == 0 ? kProcessorBootstrap : 0);
    processor.cpu_signature = kCpuSignature;
    processor.feature_flags = kCpuFeatureFpu | kCpuFeatureApic;
    append(table, processor);
    ++entry_count;
  }
  BusEntry bus{};
  bus.type = kBusEntry;
  bus.bus_id = kIsaBusId;
  copy_text(bus.bus_type, "ISA");
  append(table, bus);
  append(table, IoApicEntry{kIoApicEntry, ioapic_id, kIoApicVersion, kIoApicEnabled,
                            static_cast<uint32_t>(layout::kIoApicAddress)});
  entry_count += 2;
  for (uint32_t pin = 0; pin < kIoApicPins; ++pin) {
    append(table, InterruptEntry{kIoInterruptEntry, kInterruptInt, kInterruptFlagsDefault, kIsaBusId,
                                 static_cast<uint8_t>(pin), ioapic_id, static_cast<uint8_t>(pin)});
    ++entry_count;
  }
  append(table, InterruptEntry{kLocalInterruptEntry, kInterruptExtInt, kInterruptFlagsDefault, kIsaBusId, 0,
                               kAllLocalApics, 0});
  append(table, InterruptEntry{kLocalInterruptEntry, kInterruptNmi, kInterruptFlagsDefault, kIsaBusId, 0,
                               kAllLocalApics, 1});
  entry_count += 2;

  ConfigTableHeader header{};
  std::memcpy(header.signature, "PCMP", 4);
  header.base_table_length = static_cast<uint16_t>(table.size());
  header.spec_revision = kSpecRevision;
  copy_text(header.oem_id, "PODRT");
  copy_text(header.product_id, "PODRT-VMM");
  header.entry_count = entry_count;
  header.local_apic_address = static_cast<uint32_t>(layout::kLocalApicAddress);
  std::memcpy(table.data(), &header, sizeof header);
  table[offsetof(ConfigTableHeader, checksum)] = checksum(table);

  FloatingPointer pointer{};
  std::memcpy(pointer.signature, "_MP_", 4);
  pointer.config_table_address = static_cast<uint32_t>(config_address);
  pointer.length = 1;
  pointer.spec_revision = kSpecRevision;
  pointer.checksum = checksum({reinterpret_cast<const uint8_t*>(&pointer), sizeof pointer});

  if (config_address + table.size() > kTableLimit)
    return Error::invalid("MP table for " + std::to_string(vcpu_count) + " vCPUs does not fit below 0xa0000");
  PODRT_TRY(memory.write_object(layout::kMpTableAddress, pointer));
  return memory.write(config_address, table);
}

}  // namespace podrt::vmm
