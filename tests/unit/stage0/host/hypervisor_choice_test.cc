#include "stage0/host/hypervisor_choice.h"

#include <gtest/gtest.h>

namespace podrt::host {
namespace {

KvmReport kvm_of(KvmKind kind) {
  KvmReport report;
  report.kind = kind;
  return report;
}

TEST(HypervisorChoice, AutoUsesKvmAccelerationOnlyWithHardwareVirtualization) {
  auto hardware = choose_hypervisor("auto", kvm_of(KvmKind::Hardware), true);
  ASSERT_TRUE(hardware);
  EXPECT_EQ(hardware->hypervisor, "qemu");
  EXPECT_EQ(hardware->acceleration, "kvm");
  auto nested = choose_hypervisor("auto", kvm_of(KvmKind::NestedPvm), true);
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->acceleration, "tcg");
  EXPECT_NE(nested->reason.find("nested PVM"), std::string::npos) << nested->reason;
  auto none = choose_hypervisor("qemu", kvm_of(KvmKind::None), true);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->acceleration, "tcg");
  EXPECT_NE(none->reason.find("no /dev/kvm"), std::string::npos) << none->reason;
}

TEST(HypervisorChoice, RefusesWhatCannotRunInOneLine) {
  auto no_qemu = choose_hypervisor("auto", kvm_of(KvmKind::Hardware), false);
  ASSERT_FALSE(no_qemu);
  EXPECT_NE(no_qemu.error().message().find("apt-get install qemu-system-x86"), std::string::npos);
  EXPECT_FALSE(choose_hypervisor("builtin", kvm_of(KvmKind::NestedPvm), true));
  EXPECT_FALSE(choose_hypervisor("libvirt", kvm_of(KvmKind::Hardware), true));
  auto unknown = choose_hypervisor("vmware", kvm_of(KvmKind::Hardware), true);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("unknown hypervisor"), std::string::npos);
}

}  // namespace
}  // namespace podrt::host
