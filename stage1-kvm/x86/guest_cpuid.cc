#include "stage1-kvm/x86/guest_cpuid.h"

#include <string>

namespace podrt::vmm {
namespace {

constexpr uint32_t kFeatureLeaf = 0x1;
constexpr uint32_t kCacheLeaf = 0x4;
constexpr uint32_t kTopologyLeaf = 0xb;
constexpr uint32_t kTopologyV2Leaf = 0x1f;

constexpr uint32_t kLeaf1EcxHypervisor = 1u << 31;
constexpr uint32_t kLeaf1EdxHtt = 1u << 28;

// Leaf 0xB / 0x1F ECX[15:8]: the level type.
constexpr uint32_t kLevelInvalid = 0;
constexpr uint32_t kLevelThread = 1;
constexpr uint32_t kLevelCore = 2;

/// Bits of the x2APIC ID that the core level spans: ceil(log2(count)).
uint32_t bits_for(uint32_t count) {
  uint32_t bits = 0;
  while ((1u << bits) < count) ++bits;
  return bits;
}

kvm_cpuid_entry2 topology_entry(uint32_t leaf, uint32_t subleaf, uint32_t shift,
                                uint32_t processors, uint32_t level_type, uint32_t apic_id) {
  kvm_cpuid_entry2 entry{};
  entry.function = leaf;
  entry.index = subleaf;
  entry.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  entry.eax = shift;
  entry.ebx = processors;
  entry.ecx = (level_type << 8) | subleaf;
  entry.edx = apic_id;
  return entry;
}

}  // namespace

Result<std::vector<kvm_cpuid_entry2>> make_guest_cpuid(std::span<const kvm_cpuid_entry2> supported,
                                                       uint32_t index, uint32_t vcpu_count) {
  if (vcpu_count == 0 || vcpu_count > kMaxGuestVcpus || index >= vcpu_count)
    return Error::invalid("vCPU " + std::to_string(index) + " of " + std::to_string(vcpu_count) +
                          ": the VMM supports 1 to " + std::to_string(kMaxGuestVcpus) + " vCPUs");
  const uint32_t apic_id = index;
  std::vector<kvm_cpuid_entry2> guest;
  guest.reserve(supported.size() + 6);
  bool has_topology = false;
  bool has_topology_v2 = false;
  for (kvm_cpuid_entry2 entry : supported) {
    switch (entry.function) {
      case kFeatureLeaf:
        entry.ebx = (entry.ebx & 0x0000ffffu) | (apic_id << 24) | (vcpu_count << 16);
        entry.ecx |= kLeaf1EcxHypervisor;
        if (vcpu_count > 1)
          entry.edx |= kLeaf1EdxHtt;
        else
          entry.edx &= ~kLeaf1EdxHtt;
        break;
      case kCacheLeaf:
        // Only meaningful for subleaves that describe a cache (EAX[4:0] != 0).
        if ((entry.eax & 0x1f) != 0)
          entry.eax = (entry.eax & 0x03ffffffu) | ((vcpu_count - 1) << 26);
        break;
      case kTopologyLeaf:
        has_topology = true;
        continue;  // replaced below
      case kTopologyV2Leaf:
        has_topology_v2 = true;
        continue;
      default:
        break;
    }
    guest.push_back(entry);
  }
  // The host's own topology says nothing about this VM: each listed leaf becomes thread level
  // (1 per core), core level (vcpu_count), then the terminating invalid level.
  for (auto [leaf, present] : {std::pair{kTopologyLeaf, has_topology},
                               std::pair{kTopologyV2Leaf, has_topology_v2}}) {
    if (!present) continue;
    guest.push_back(topology_entry(leaf, 0, 0, 1, kLevelThread, apic_id));
    guest.push_back(topology_entry(leaf, 1, bits_for(vcpu_count), vcpu_count, kLevelCore, apic_id));
    guest.push_back(topology_entry(leaf, 2, 0, 0, kLevelInvalid, apic_id));
  }
  return guest;
}

}  // namespace podrt::vmm
