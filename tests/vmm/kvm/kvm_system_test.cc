#include "stage1-kvm/kvm/kvm_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "stage1-kvm/kvm/kvm_capabilities.h"
#include "tests/vmm/kvm/kvm_test_support.h"

namespace podrt::vmm {
namespace {

TEST(RequiredKvmCapabilities, AllPresentPasses) {
  EXPECT_TRUE(check_required_kvm_capabilities([](int) { return 1; }));
}

TEST(RequiredKvmCapabilities, ListsEveryMissingOneWithItsReason) {
  Result<void> result = check_required_kvm_capabilities([](int capability) {
    return capability == KVM_CAP_IRQFD || capability == KVM_CAP_PIT2 ? 0 : 1;
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(),
            "KVM lacks KVM_CAP_PIT2 (needed for the in-kernel PIT timer), KVM_CAP_IRQFD "
            "(needed for device interrupts through eventfds)");
}

TEST(RequiredKvmCapabilities, TableIsWellFormed) {
  std::set<int> numbers;
  for (const KvmCapability& capability : required_kvm_capabilities()) {
    EXPECT_TRUE(std::string(capability.name).starts_with("KVM_CAP_"));
    EXPECT_GT(std::string(capability.needed_for).size(), 5u) << capability.name;
    EXPECT_TRUE(numbers.insert(capability.number).second) << capability.name << " twice";
  }
  // What the VMM's devices and vCPU loop are built on.
  for (int needed : {KVM_CAP_USER_MEMORY, KVM_CAP_IRQCHIP, KVM_CAP_PIT2, KVM_CAP_IRQFD,
                     KVM_CAP_IOEVENTFD, KVM_CAP_SET_TSS_ADDR, KVM_CAP_EXT_CPUID,
                     KVM_CAP_IMMEDIATE_EXIT})
    EXPECT_TRUE(numbers.count(needed)) << "KVM_CAP number " << needed;
}

TEST(OpenKvmDevice, MissingPathSaysWhatFailed) {
  auto kvm = KvmSystem::open("/nonexistent/kvm");
  ASSERT_FALSE(kvm);
  EXPECT_EQ(kvm.error().message(), "open KVM device /nonexistent/kvm: No such file or directory");
}

TEST(OpenKvmDevice, NonKvmDeviceSaysItIsNotKvm) {
  auto kvm = KvmSystem::open("/dev/null");
  ASSERT_FALSE(kvm);
  EXPECT_NE(kvm.error().message().find("KVM_GET_API_VERSION on /dev/null (not KVM?)"),
            std::string::npos)
      << kvm.error().message();
}

TEST(KvmSystem, OpensWithEveryRequiredCapability) {
  PODRT_REQUIRE_KVM("opening /dev/kvm, its capabilities, supported CPUID");
  PODRT_ASSERT_OK_AND_GET(kvm, KvmSystem::open());
  for (const KvmCapability& capability : required_kvm_capabilities())
    EXPECT_GT(kvm.check_extension(capability.number), 0) << capability.name;
  EXPECT_GE(static_cast<size_t>(kvm.vcpu_mmap_size()), sizeof(kvm_run));
  EXPECT_GE(kvm.max_vcpus(), 1u);
}

TEST(KvmSystem, SupportedCpuidHasTheBasicLeaves) {
  PODRT_REQUIRE_KVM("KVM_GET_SUPPORTED_CPUID");
  PODRT_ASSERT_OK_AND_GET(kvm, KvmSystem::open());
  PODRT_ASSERT_OK_AND_GET(cpuid, kvm.supported_cpuid());
  auto has_leaf = [&cpuid](uint32_t leaf) {
    return std::any_of(cpuid.begin(), cpuid.end(),
                       [leaf](const kvm_cpuid_entry2& entry) { return entry.function == leaf; });
  };
  EXPECT_TRUE(has_leaf(0));
  EXPECT_TRUE(has_leaf(1));
  EXPECT_TRUE(has_leaf(0x80000000));
}

TEST(KvmSystem, CreatesVmsAndVcpus) {
  PODRT_REQUIRE_KVM("KVM_CREATE_VM, KVM_CREATE_VCPU");
  PODRT_ASSERT_OK_AND_GET(kvm, KvmSystem::open());
  PODRT_ASSERT_OK_AND_GET(vm, kvm.create_vm());
  PODRT_ASSERT_OK_AND_GET(vcpu, vm.create_vcpu(0));
  EXPECT_EQ(vcpu.index(), 0u);
  // The same index twice is KVM's error, reported with the ioctl's name.
  auto again = vm.create_vcpu(0);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("KVM_CREATE_VCPU for vCPU 0"), std::string::npos);
}

}  // namespace
}  // namespace podrt::vmm
