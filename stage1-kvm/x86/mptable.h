// The Intel MultiProcessor Specification 1.4 table that tells Linux, without ACPI, how many CPUs
// there are and how the IOAPIC is wired. It lives in the EBDA at layout::kMpTableAddress, which
// Linux scans for "_MP_", and must end below 0xa0000:
//   floating pointer   "_MP_", the config table's address, checksum
//   config table       "PCMP" header (LAPIC at layout::kLocalApicAddress), then the entries:
//                      one processor per vCPU (APIC id = index, vCPU 0 the BSP), one ISA bus,
//                      one IOAPIC (id = vCPU count, at layout::kIoApicAddress), an INT entry
//                      routing ISA IRQ n to IOAPIC pin n for every pin, and LINT0 = ExtINT
//                      (the PIC), LINT1 = NMI on every local APIC.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm {

namespace mptable {

inline constexpr uint8_t kSpecRevision = 4;  ///< MP spec 1.4
/// Where the EBDA (and the table with it) ends: the VGA hole.
inline constexpr uint64_t kTableLimit = 0xa0000;
inline constexpr uint32_t kIoApicPins = 24;
inline constexpr uint8_t kIoApicVersion = 0x11;
/// The local APIC version KVM's in-kernel LAPIC reports (an integrated APIC).
inline constexpr uint8_t kLocalApicVersion = 0x14;
/// CPU signature (family 6) and feature flags (FPU, APIC) of a processor entry, as kvmtool and
/// Firecracker give them; Linux takes the real values from CPUID.
inline constexpr uint32_t kCpuSignature = 0x600;
inline constexpr uint32_t kCpuFeatureFpu = 1u << 0;
inline constexpr uint32_t kCpuFeatureApic = 1u << 9;

enum EntryType : uint8_t {
  kProcessorEntry = 0,
  kBusEntry = 1,
  kIoApicEntry = 2,
  kIoInterruptEntry = 3,
  kLocalInterruptEntry = 4,
};
enum InterruptType : uint8_t { kInterruptInt = 0, kInterruptNmi = 1, kInterruptSmi = 2, kInterruptExtInt = 3 };
inline constexpr uint8_t kProcessorEnabled = 1u << 0;
inline constexpr uint8_t kProcessorBootstrap = 1u << 1;
inline constexpr uint8_t kIoApicEnabled = 1u << 0;
/// Polarity and trigger "conform to the bus" (ISA: active high, edge).
inline constexpr uint16_t kInterruptFlagsDefault = 0;
inline constexpr uint8_t kIsaBusId = 0;
inline constexpr uint8_t kAllLocalApics = 0xff;

struct [[gnu::packed]] FloatingPointer {
  char signature[4];  ///< "_MP_"
  uint32_t config_table_address;
  uint8_t length;  ///< in 16-byte units: 1
  uint8_t spec_revision;
  uint8_t checksum;  ///< all 16 bytes sum to 0
  uint8_t feature[5];  ///< 0: a config table is present; no IMCR (virtual wire mode)
};

struct [[gnu::packed]] ConfigTableHeader {
  char signature[4];  ///< "PCMP"
  uint16_t base_table_length;  ///< header and entries
  uint8_t spec_revision;
  uint8_t checksum;  ///< the header and entries sum to 0
  char oem_id[8];
  char product_id[12];
  uint32_t oem_table_address;
  uint16_t oem_table_size;
  uint16_t entry_count;
  uint32_t local_apic_address;
  uint16_t extended_table_length;
  uint8_t extended_table_checksum;
  uint8_t reserved;
};

struct [[gnu::packed]] ProcessorEntry {
  uint8_t type;
  uint8_t local_apic_id;
  uint8_t local_apic_version;
  uint8_t cpu_flags;
  uint32_t cpu_signature;
  uint32_t feature_flags;
  uint32_t reserved[2];
};

struct [[gnu::packed]] BusEntry {
  uint8_t type;
  uint8_t bus_id;
  char bus_type[6];  ///< "ISA   "
};

struct [[gnu::packed]] IoApicEntry {
  uint8_t type;
  uint8_t id;
  uint8_t version;
  uint8_t flags;
  uint32_t address;
};

/// An I/O or a local interrupt assignment (the same layout).
struct [[gnu::packed]] InterruptEntry {
  uint8_t type;
  uint8_t interrupt_type;
  uint16_t flags;
  uint8_t source_bus_id;
  uint8_t source_bus_irq;
  uint8_t destination_id;  ///< IOAPIC id, or local APIC id (kAllLocalApics)
  uint8_t destination_pin;  ///< IOAPIC INTIN or LINTIN
};

static_assert(sizeof(FloatingPointer) == 16 && sizeof(ConfigTableHeader) == 44 &&
              sizeof(ProcessorEntry) == 20 && sizeof(BusEntry) == 8 && sizeof(IoApicEntry) == 8 &&
              sizeof(InterruptEntry) == 8);

/// The table's size for `vcpu_count` vCPUs.
constexpr uint64_t table_size(uint64_t vcpu_count) {
  return sizeof(FloatingPointer) + sizeof(ConfigTableHeader) + vcpu_count * sizeof(ProcessorEntry) +
         sizeof(BusEntry) + sizeof(IoApicEntry) + kIoApicPins * sizeof(InterruptEntry) +
         2 * sizeof(InterruptEntry);
}

}  // namespace mptable

/// The most vCPUs whose table fits between layout::kMpTableAddress and the VGA hole (and whose
/// APIC ids, with the IOAPIC's after them, fit in 8 bits).
uint32_t max_mptable_vcpus();

/// Writes the table for `vcpu_count` vCPUs; fails for 0 or more than max_mptable_vcpus().
Result<void> write_mptable(const GuestMemory& memory, uint32_t vcpu_count);

}  // namespace podrt::vmm
