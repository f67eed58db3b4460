#include "stage1-kvm/x86/guest_cpuid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace podrt::vmm {
namespace {

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                      uint32_t edx) {
  kvm_cpuid_entry2 entry{};
  entry.function = function;
  entry.index = index;
  entry.eax = eax;
  entry.ebx = ebx;
  entry.ecx = ecx;
  entry.edx = edx;
  return entry;
}

/// What a host might report: host topology in 0xB that must not leak into the guest.
std::vector<kvm_cpuid_entry2> host_cpuid() {
  return {
      leaf(0, 0, 0xb, 0x756e6547, 0x6c65746e, 0x49656e69),
      leaf(1, 0, 0x000806f8, 0x07100800, 0x7ffefbff, 0xbfebfbff),
      leaf(4, 0, 0x1c004121, 0, 0, 0),
      leaf(4, 4, 0, 0, 0, 0),
      leaf(0xb, 0, 1, 2, 0x100, 7),
      leaf(0xb, 1, 6, 56, 0x201, 7),
      leaf(0x80000000, 0, 0x80000008, 0, 0, 0),
  };
}

std::vector<kvm_cpuid_entry2> find(const std::vector<kvm_cpuid_entry2>& cpuid, uint32_t function) {
  std::vector<kvm_cpuid_entry2> found;
  std::copy_if(cpuid.begin(), cpuid.end(), std::back_inserter(found),
               [function](const kvm_cpuid_entry2& e) { return e.function == function; });
  return found;
}

TEST(GuestCpuid, Leaf1CarriesApicIdCountAndHypervisorBit) {
  auto guest = make_guest_cpuid(host_cpuid(), 3, 4);
  ASSERT_TRUE(guest) << guest.error().message();
  auto leaf1 = find(*guest, 1);
  ASSERT_EQ(leaf1.size(), 1u);
  EXPECT_EQ(leaf1[0].ebx >> 24, 3u);
  EXPECT_EQ((leaf1[0].ebx >> 16) & 0xff, 4u);
  EXPECT_EQ(leaf1[0].ebx & 0xffff, 0x0800u) << "CLFLUSH size and brand kept";
  EXPECT_TRUE(leaf1[0].ecx & (1u << 31));
  EXPECT_TRUE(leaf1[0].edx & (1u << 28)) << "HTT with more than one logical processor";
  EXPECT_EQ(leaf1[0].eax, 0x000806f8u) << "signature untouched";
}

TEST(GuestCpuid, SingleVcpuHasNoHtt) {
  auto guest = make_guest_cpuid(host_cpuid(), 0, 1);
  ASSERT_TRUE(guest);
  EXPECT_FALSE(find(*guest, 1)[0].edx & (1u << 28));
}

TEST(GuestCpuid, TopologyLeafReplacedWithTheVmsOwn) {
  auto guest = make_guest_cpuid(host_cpuid(), 2, 3);
  ASSERT_TRUE(guest);
  auto topology = find(*guest, 0xb);
  ASSERT_EQ(topology.size(), 3u);
  for (const auto& level : topology) {
    EXPECT_EQ(level.edx, 2u) << "x2APIC ID in every subleaf";
    EXPECT_EQ(level.ecx & 0xff, level.index);
    EXPECT_TRUE(level.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
  }
  EXPECT_EQ(topology[0].ebx, 1u);
  EXPECT_EQ((topology[0].ecx >> 8) & 0xff, 1u) << "thread level";
  EXPECT_EQ(topology[1].eax, 2u) << "ceil(log2(3)) bits of APIC ID";
  EXPECT_EQ(topology[1].ebx, 3u);
  EXPECT_EQ((topology[1].ecx >> 8) & 0xff, 2u) << "core level";
  EXPECT_EQ((topology[2].ecx >> 8) & 0xff, 0u) << "terminating level";
  EXPECT_TRUE(find(*guest, 0x1f).empty()) << "not invented where the host has none";
}

TEST(GuestCpuid, CacheLeafCountsCoresOnlyForRealCaches) {
  auto guest = make_guest_cpuid(host_cpuid(), 0, 4);
  ASSERT_TRUE(guest);
  auto caches = find(*guest, 4);
  ASSERT_EQ(caches.size(), 2u);
  EXPECT_EQ(caches[0].eax >> 26, 3u);
  EXPECT_EQ(caches[0].eax & 0x03ffffff, 0x1c004121u & 0x03ffffff);
  EXPECT_EQ(caches[1].eax, 0u) << "the null subleaf stays null";
}

TEST(GuestCpuid, RejectsImpossibleCounts) {
  EXPECT_FALSE(make_guest_cpuid(host_cpuid(), 0, 0));
  EXPECT_FALSE(make_guest_cpuid(host_cpuid(), 4, 4));
  EXPECT_FALSE(make_guest_cpuid(host_cpuid(), 0, kMaxGuestVcpus + 1));
  auto error = make_guest_cpuid(host_cpuid(), 5, 2);
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().message(), "vCPU 5 of 2: the VMM supports 1 to 255 vCPUs");
}

}  // namespace
}  // namespace podrt::vmm
