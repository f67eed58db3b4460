#include "stage0/host/hypervisor_choice.h"

#include <gtest/gtest.h>

namespace podrt::host {
namespace {

KvmReport kvm_of(KvmKind kind) {
  KvmReport report;
  report.kind = kind;
  return report;
}

TEST(HypervisorChoice, AutoPicksTheBuiltinVmmOnlyWithHardwareVirtualization) {
  auto hardware = choose_hypervisor("auto", kvm_of(KvmKind::Hardware), true);
  ASSERT_TRUE(hardware);
  EXPECT_EQ(hardware->hypervisor, "builtin");
  EXPECT_EQ(hardware->acceleration, "kvm");
  // The builtin VMM needs no QEMU.
  auto without_qemu = choose_hypervisor("auto", kvm_of(KvmKind::Hardware), false);
  ASSERT_TRUE(without_qemu);
  EXPECT_EQ(without_qemu->hypervisor, "builtin");
  auto qemu_kvm = choose_hypervisor("qemu", kvm_of(KvmKind::Hardware), true);
  ASSERT_TRUE(qemu_kvm);
  EXPECT_EQ(qemu_kvm->hypervisor, "qemu");
  EXPECT_EQ(qemu_kvm->acceleration, "kvm");
  auto nested = choose_hypervisor("auto", kvm_of(KvmKind::NestedPvm), true);
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->acceleration, "tcg");
  EXPECT_NE(nested->reason.find("nested PVM"), std::string::npos) << nested->reason;
  auto none = choose_hypervisor("qemu", kvm_of(KvmKind::None), true);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->acceleration, "tcg");
  EXPECT_NE(none->reason.find("no /dev/kvm"), std::string::npos) << none->reason;
}

TEST(HypervisorChoice, AutoPicksQemuWithKvmForAPodWithHostVolumes) {
  // The builtin VMM has no 9p to share host directories: auto must not pick what then refuses.
  auto shared = choose_hypervisor("auto", kvm_of(KvmKind::Hardware), true, PodNeeds{.host_volumes = true});
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->hypervisor, "qemu");
  EXPECT_EQ(shared->acceleration, "kvm");
  EXPECT_NE(shared->reason.find("host volumes"), std::string::npos) << shared->reason;
  // An explicit choice stays the user's (and the builtin backend then refuses the shares).
  auto explicit_builtin =
      choose_hypervisor("builtin", kvm_of(KvmKind::Hardware), true, PodNeeds{.host_volumes = true});
  ASSERT_TRUE(explicit_builtin);
  EXPECT_EQ(explicit_builtin->hypervisor, "builtin");
  auto nested = choose_hypervisor("auto", kvm_of(KvmKind::NestedPvm), true, PodNeeds{.host_volumes = true});
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->acceleration, "tcg");
}

TEST(HypervisorChoice, RefusesWhatCannotRunInOneLine) {
  auto no_qemu = choose_hypervisor("auto", kvm_of(KvmKind::NestedPvm), false);
  ASSERT_FALSE(no_qemu);
  EXPECT_NE(no_qemu.error().message().find("apt-get install qemu-system-x86"), std::string::npos);
  // Where the builtin VMM cannot run it says why and what to use, in one line.
  for (KvmKind kind : {KvmKind::NestedPvm, KvmKind::None, KvmKind::Unusable}) {
    auto builtin = choose_hypervisor("builtin", kvm_of(kind), true);
    ASSERT_FALSE(builtin);
    std::string message = builtin.error().message();
    EXPECT_NE(message.find("needs hardware virtualization"), std::string::npos) << message;
    EXPECT_NE(message.find("--hypervisor=qemu"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  auto builtin = choose_hypervisor("builtin", kvm_of(KvmKind::Hardware), false);
  ASSERT_TRUE(builtin);
  EXPECT_EQ(builtin->hypervisor, "builtin");
  EXPECT_FALSE(choose_hypervisor("libvirt", kvm_of(KvmKind::Hardware), true));
  auto unknown = choose_hypervisor("vmware", kvm_of(KvmKind::Hardware), true);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("unknown hypervisor"), std::string::npos);
}

}  // namespace
}  // namespace podrt::host
