#include <gtest/gtest.h>

#include <algorithm>

#include "stage1-kvm/pod_vm.h"
#include "stage1-kvm/qemu/qemu_hypervisor.h"

namespace podrt::stage1_kvm {
namespace {

std::string after(const std::vector<std::string>& argv, const std::string& flag, size_t nth = 0) {
  for (size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == flag && nth-- == 0) return argv[i + 1];
  return "";
}

size_t index_of(const std::vector<std::string>& argv, const std::string& prefix) {
  for (size_t i = 0; i < argv.size(); ++i)
    if (argv[i].rfind(prefix, 0) == 0) return i;
  return argv.size();
}

TEST(QemuArguments, AMicrovmWithTheSpecsDevicesDisksFirst) {
  VmSpec spec;
  spec.name = "podrt-1234";
  spec.kernel = "/k/vmlinux";
  spec.initramfs = "/k/init.cpio";
  spec.command_line = "console=ttyS0 reboot=t";
  spec.memory_mib = 256;
  spec.vcpus = 2;
  spec.disks = {{"/store/a,b.erofs"}, {"/store/c.erofs"}};
  spec.shares = {{"volume0", "/srv/data", true}};
  spec.nics = {{7, "aa:bb:cc:dd:ee:ff"}};
  spec.control_fd = 5;
  spec.console_fd = 6;
  std::vector<std::string> argv = qemu_arguments(spec, "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(argv[0], "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(after(argv, "-accel"), "tcg");
  EXPECT_EQ(after(argv, "-cpu"), "max");
  EXPECT_EQ(after(argv, "-m"), "256");
  EXPECT_EQ(after(argv, "-smp"), "2");
  EXPECT_EQ(after(argv, "-append"), "console=ttyS0 reboot=t");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-no-reboot"), argv.end());
  // A comma in a path is doubled, so it cannot add options of its own.
  EXPECT_NE(after(argv, "-drive", 0).find("file=/store/a,,b.erofs,format=raw"), std::string::npos)
      << after(argv, "-drive", 0);
  EXPECT_NE(after(argv, "-drive", 1).find("readonly=on"), std::string::npos);
  EXPECT_LT(index_of(argv, "virtio-blk-device"), index_of(argv, "virtserialport"))
      << "block devices come first: the guest names them vda, vdb in probe order";
  EXPECT_EQ(after(argv, "-chardev", 0), "socket,id=console,fd=6");
  EXPECT_EQ(after(argv, "-chardev", 1), "socket,id=control,fd=5");
  EXPECT_NE(after(argv, "-fsdev").find("readonly=on"), std::string::npos);
  EXPECT_EQ(after(argv, "-netdev"), "tap,id=net0,fd=7");
  EXPECT_EQ(after(argv, "-device", 5), "virtio-net-device,netdev=net0,mac=aa:bb:cc:dd:ee:ff");

  spec.acceleration = Acceleration::kKvm;
  argv = qemu_arguments(spec, "qemu");
  EXPECT_EQ(after(argv, "-accel"), "kvm");
  EXPECT_EQ(after(argv, "-cpu"), "host");
}

TEST(PodVmSize, MemoryAndVcpusFollowTheIsolators) {
  std::vector<guest_protocol::GuestApp> apps(2);
  EXPECT_EQ(vm_memory_mib(apps), kDefaultMemoryMib);
  EXPECT_EQ(vm_vcpus(apps, 8), 1u);
  apps[0].memory_bytes = 32u << 20;
  EXPECT_EQ(vm_memory_mib(apps), kDefaultMemoryMib) << "small limits fit the default";
  apps[1].memory_bytes = 512u << 20;
  EXPECT_EQ(vm_memory_mib(apps), 32 + 512 + kGuestOverheadMib);
  apps[1].cpu_millicores = 2500;
  EXPECT_EQ(vm_vcpus(apps, 8), 3u);
  EXPECT_EQ(vm_vcpus(apps, 2), 2u) << "never more vCPUs than the host has";
}

}  // namespace
}  // namespace podrt::stage1_kvm
