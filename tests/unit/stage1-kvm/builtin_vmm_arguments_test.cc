#include <gtest/gtest.h>

#include "stage1-kvm/builtin/builtin_hypervisor.h"

namespace podrt::stage1_kvm {
namespace {

std::vector<std::string> values_of(const std::vector<std::string>& argv, const std::string& flag) {
  std::vector<std::string> values;
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == flag) values.push_back(argv[i + 1]);
  return values;
}

VmSpec kvm_spec() {
  VmSpec spec;
  spec.name = "podrt-1234";
  spec.kernel = "/k/vmlinux";
  spec.initramfs = "/k/init.cpio";
  spec.command_line = "console=ttyS0 reboot=t quiet";
  spec.memory_mib = 256;
  spec.vcpus = 2;
  spec.acceleration = Acceleration::kKvm;
  spec.disks = {{"/store/a,b.erofs"}, {"/store/c.erofs"}};
  spec.nics = {{7, "aa:bb:cc:dd:ee:ff"}};
  spec.control_fd = 5;
  spec.console_fd = 6;
  return spec;
}

TEST(BuiltinVmmArguments, TheSpecsMachineWithDisksInOrderAndFdsByNumber) {
  auto argv = builtin_vmm_arguments(kvm_spec(), "/bin/podrt-vmm");
  ASSERT_TRUE(argv) << argv.error().message();
  EXPECT_EQ((*argv)[0], "/bin/podrt-vmm");
  EXPECT_EQ(values_of(*argv, "--kernel"), std::vector<std::string>{"/k/vmlinux"});
  EXPECT_EQ(values_of(*argv, "--initrd"), std::vector<std::string>{"/k/init.cpio"});
  // retain_initrd keeps the initrd's file-mapped pages unwritten (shared between pods).
  EXPECT_EQ(values_of(*argv, "--cmdline"), std::vector<std::string>{"console=ttyS0 reboot=t quiet retain_initrd"});
  EXPECT_EQ(values_of(*argv, "--memory"), std::vector<std::string>{"256"});
  EXPECT_EQ(values_of(*argv, "--vcpus"), std::vector<std::string>{"2"});
  // No escaping: each value is its own argv word.
  EXPECT_EQ(values_of(*argv, "--disk"), (std::vector<std::string>{"/store/a,b.erofs", "/store/c.erofs"}));
  EXPECT_EQ(values_of(*argv, "--net"), std::vector<std::string>{"7,aa:bb:cc:dd:ee:ff"});
  EXPECT_EQ(values_of(*argv, "--control-fd"), std::vector<std::string>{"5"});
  EXPECT_EQ(values_of(*argv, "--console-fd"), std::vector<std::string>{"6"});
}

TEST(BuiltinVmmArguments, RefusesHostVolumesAndSoftwareEmulationNamingQemu) {
  VmSpec shares = kvm_spec();
  shares.shares = {{"volume0", "/srv/data", true}};
  auto with_shares = builtin_vmm_arguments(shares, "/bin/podrt-vmm");
  ASSERT_FALSE(with_shares);
  EXPECT_NE(with_shares.error().message().find("--hypervisor=qemu"), std::string::npos);
  EXPECT_NE(with_shares.error().message().find("volume0"), std::string::npos);
  VmSpec tcg = kvm_spec();
  tcg.acceleration = Acceleration::kTcg;
  auto with_tcg = builtin_vmm_arguments(tcg, "/bin/podrt-vmm");
  ASSERT_FALSE(with_tcg);
  EXPECT_NE(with_tcg.error().message().find("--hypervisor=qemu"), std::string::npos);
}

}  // namespace
}  // namespace podrt::stage1_kvm
