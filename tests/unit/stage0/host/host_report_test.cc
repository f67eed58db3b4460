// Host probes against fake /proc, /sys and /dev trees in a temporary directory.
#include "stage0/host/host_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "common/sys/file.h"

namespace podrt::host {
namespace {

constexpr std::string_view kIntelCpuinfo =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse tsc msr vmx sse2\n\n";
constexpr std::string_view kPvmCpuinfo =
    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu vme de pse tsc msr sse2 hypervisor\n";
constexpr std::string_view kProcCgroups =
    "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
    "cpuset\t3\t1\t1\ncpu\t1\t1\t1\nmemory\t4\t33\t1\nnet_cls\t0\t1\t0\nhugetlb\t0\t1\t1\n";
constexpr std::string_view kV1Mounts =
    "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n";

// A temporary root holding proc/, sys/ and dev/; removed on destruction.
class FakeHost {
 public:
  FakeHost() {
    std::string pattern = ::testing::TempDir() + "podrt-host-XXXXXX";
    root_ = ::mkdtemp(pattern.data()) ? pattern : "";
    paths_.proc = root_ + "/proc";
    paths_.sys = root_ + "/sys";
    paths_.dev = root_ + "/dev";
    paths_.cni_dirs = {root_ + "/usr/lib/cni", root_ + "/opt/cni/bin"};
    for (const std::string& directory : {paths_.proc, paths_.sys, paths_.dev}) {
      EXPECT_TRUE(sys::make_directories(directory));
    }
  }
  ~FakeHost() { (void)sys::remove_tree(root_); }

  void write(const std::string& relative, std::string_view content, mode_t mode = 0644) {
    std::string path = root_ + "/" + relative;
    ASSERT_TRUE(sys::make_directories(path.substr(0, path.rfind('/'))));
    ASSERT_TRUE(sys::write_file_atomic(path, content, mode));
  }
  void mkdir(const std::string& relative) {
    ASSERT_TRUE(sys::make_directories(root_ + "/" + relative));
  }

  const std::string& root() const { return root_; }
  HostPaths& paths() { return paths_; }

 private:
  std::string root_;
  HostPaths paths_;
};

TEST(ClassifyKvm, HardwareNeedsFlagAndOpenableDevice) {
  EXPECT_EQ(classify_kvm(kIntelCpuinfo, DevKvm::Openable, false).kind, KvmKind::Hardware);
  EXPECT_EQ(classify_kvm("flags : fpu svm\n", DevKvm::Openable, false).kind, KvmKind::Hardware);
  EXPECT_EQ(classify_kvm(kIntelCpuinfo, DevKvm::NotOpenable, false).kind, KvmKind::Unusable);
  EXPECT_EQ(classify_kvm(kIntelCpuinfo, DevKvm::Missing, false).kind, KvmKind::None);
  // "vmx" only counts as a whole word on the flags line.
  EXPECT_EQ(classify_kvm("model name : vmx\nflags : fpu vmxe\n", DevKvm::Openable, false).kind,
            KvmKind::Unusable);
}

TEST(ClassifyKvm, KvmPvmIsNested) {
  KvmReport report = classify_kvm(kPvmCpuinfo, DevKvm::Openable, true);
  EXPECT_EQ(report.kind, KvmKind::NestedPvm);
  EXPECT_NE(report.detail.find("QEMU/TCG"), std::string::npos);
  EXPECT_EQ(classify_kvm(kPvmCpuinfo, DevKvm::Missing, true).kind, KvmKind::None);
}

TEST(ProbeKvm, FakeTrees) {
  {
    FakeHost host;
    host.write("proc/cpuinfo", kIntelCpuinfo);
    host.write("dev/kvm", "");
    EXPECT_EQ(probe_kvm(host.paths()).kind, KvmKind::Hardware);
  }
  {
    FakeHost host;
    host.write("proc/cpuinfo", kPvmCpuinfo);
    host.write("dev/kvm", "");
    host.mkdir("sys/module/kvm_pvm/parameters");
    EXPECT_EQ(probe_kvm(host.paths()).kind, KvmKind::NestedPvm);
  }
  {
    FakeHost host;
    host.write("proc/cpuinfo", kIntelCpuinfo);
    KvmReport report = probe_kvm(host.paths());
    EXPECT_EQ(report.kind, KvmKind::None);
    EXPECT_NE(report.detail.find("no /dev/kvm"), std::string::npos);
  }
}

TEST(ClassifyCgroups, FromMountTable) {
  EXPECT_EQ(classify_cgroups(parse_cgroup_mounts("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")),
            CgroupMode::V2);
  EXPECT_EQ(classify_cgroups(parse_cgroup_mounts(kV1Mounts)), CgroupMode::V1);
  std::string hybrid = std::string(kV1Mounts) + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
  EXPECT_EQ(classify_cgroups(parse_cgroup_mounts(hybrid)), CgroupMode::Hybrid);
  EXPECT_EQ(classify_cgroups(parse_cgroup_mounts("proc /proc proc rw 0 0\n")), CgroupMode::None);
}

TEST(ProbeCgroups, V2ReadsRootControllers) {
  FakeHost host;
  host.write("proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n");
  host.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  CgroupReport report = probe_cgroups(host.paths());
  EXPECT_EQ(report.mode, CgroupMode::V2);
  EXPECT_EQ(report.controllers,
            (std::vector<std::string>{"cpuset", "cpu", "io", "memory", "pids"}));
  EXPECT_TRUE(report.unified_controllers.empty());
}

TEST(ProbeCgroups, V1ListsEnabledControllers) {
  FakeHost host;
  host.write("proc/self/mounts", kV1Mounts);
  host.write("proc/cgroups", kProcCgroups);
  CgroupReport report = probe_cgroups(host.paths());
  EXPECT_EQ(report.mode, CgroupMode::V1);
  EXPECT_EQ(report.controllers,
            (std::vector<std::string>{"cpuset", "cpu", "memory", "hugetlb"}));
}

TEST(ProbeCgroups, HybridSplitsUnifiedControllers) {
  FakeHost host;
  host.write("proc/self/mounts",
             std::string(kV1Mounts) + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n");
  host.write("proc/cgroups", kProcCgroups);
  host.write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
  CgroupReport report = probe_cgroups(host.paths());
  EXPECT_EQ(report.mode, CgroupMode::Hybrid);
  EXPECT_EQ(report.controllers, (std::vector<std::string>{"cpuset", "cpu", "memory"}));
  EXPECT_EQ(report.unified_controllers, (std::vector<std::string>{"hugetlb"}));
}

TEST(ProbeOthers, OverlayUsernsSeccomp) {
  FakeHost host;
  EXPECT_FALSE(probe_overlayfs(host.paths()));
  host.write("proc/filesystems", "nodev\tsysfs\nnodev\toverlay\n\text4\n");
  EXPECT_TRUE(probe_overlayfs(host.paths()));

  EXPECT_FALSE(probe_user_namespaces(host.paths()).available);
  host.write("proc/sys/user/max_user_namespaces", "0\n");
  EXPECT_FALSE(probe_user_namespaces(host.paths()).available);
  host.write("proc/sys/user/max_user_namespaces", "15000\n");
  host.write("proc/sys/kernel/unprivileged_userns_clone", "1\n");
  UserNamespaceReport userns = probe_user_namespaces(host.paths());
  EXPECT_TRUE(userns.available);
  EXPECT_EQ(userns.max_user_namespaces, 15000);
  EXPECT_EQ(userns.unprivileged_userns_clone, 1);

  EXPECT_FALSE(probe_seccomp(host.paths()).available);
  host.write("proc/self/status", "Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n");
  SeccompReport seccomp = probe_seccomp(host.paths());
  EXPECT_TRUE(seccomp.available);
  EXPECT_EQ(seccomp.mode, 2);
}

TEST(ProbeQemu, FindsAndRunsItInPath) {
  FakeHost host;
  host.paths().search_path = host.root() + "/nope:" + host.root() + "/bin";
  EXPECT_FALSE(probe_qemu(host.paths()).path);
  host.write("bin/qemu-system-x86_64",
             "#!/bin/sh\necho 'QEMU emulator version 7.2.0'\necho 'Copyright'\n", 0755);
  QemuReport report = probe_qemu(host.paths());
  ASSERT_TRUE(report.path);
  EXPECT_EQ(*report.path, host.root() + "/bin/qemu-system-x86_64");
  EXPECT_EQ(report.version, "QEMU emulator version 7.2.0");
}

TEST(ProbeCni, HonoursCniPathThenDefaults) {
  FakeHost host;
  EXPECT_FALSE(probe_cni(host.paths()).plugin_dir);
  host.write("opt/cni/bin/bridge", "", 0755);
  host.write("opt/cni/bin/loopback", "", 0755);
  CniReport report = probe_cni(host.paths());
  EXPECT_EQ(report.plugin_dir, host.root() + "/opt/cni/bin");
  EXPECT_EQ(report.present, (std::vector<std::string>{"bridge", "loopback"}));
  EXPECT_EQ(report.missing.size(), 5u);

  host.write("custom/ptp", "", 0755);
  host.paths().cni_path = host.root() + "/custom";
  report = probe_cni(host.paths());
  EXPECT_EQ(report.plugin_dir, host.root() + "/custom");
  EXPECT_EQ(report.present, (std::vector<std::string>{"ptp"}));
}

TEST(Format, JsonShapeAndText) {
  FakeHost host;
  host.write("proc/cpuinfo", kPvmCpuinfo);
  host.write("dev/kvm", "");
  host.mkdir("sys/module/kvm_pvm");
  host.write("proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n");
  host.write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  HostReport report = probe_host(host.paths(), host.root() + "/data");

  nlohmann::json json = nlohmann::json::parse(format_json(report));
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["kvm"]["kind"], "nested-pvm");
  EXPECT_TRUE(json["kvm"]["detail"].is_string());
  EXPECT_EQ(json["cgroup"]["mode"], "v2");
  EXPECT_EQ(json["cgroup"]["controllers"], nlohmann::json({"cpu", "memory"}));
  EXPECT_TRUE(json["cgroup"]["unified_controllers"].is_array());
  EXPECT_EQ(json["overlayfs"], false);
  EXPECT_EQ(json["user_namespaces"]["available"], false);
  EXPECT_TRUE(json["user_namespaces"]["max_user_namespaces"].is_null());
  EXPECT_EQ(json["seccomp"]["available"], false);
  EXPECT_TRUE(json["qemu"]["path"].is_null());
  EXPECT_TRUE(json["qemu"]["version"].is_null());
  EXPECT_TRUE(json["cni"]["plugin_dir"].is_null());
  EXPECT_EQ(json["cni"]["missing"].size(), 7u);
  EXPECT_EQ(json["data_dir"]["path"], host.root() + "/data");
  EXPECT_EQ(json["data_dir"]["exists"], false);
  // No QEMU in the fake host: kvm pods cannot run, and the report says why.
  EXPECT_NE(json["kvm_pods"]["hypervisor"].get<std::string>().find("qemu-system-x86"), std::string::npos)
      << json["kvm_pods"];
  EXPECT_TRUE(json["kvm_pods"]["guest_kernel"].is_string());
  EXPECT_TRUE(json["kvm_pods"]["guest_kernel_built"].is_boolean());
  EXPECT_EQ(json.size(), 9u);

  std::string text = format_text(report);
  EXPECT_NE(text.find("kvm:             nested-pvm (/dev/kvm from a nested PVM"),
            std::string::npos);
  EXPECT_NE(text.find("\ncgroup:          v2 (controllers: cpu memory)\n"), std::string::npos);
  EXPECT_NE(text.find("\nuser namespaces: no"), std::string::npos);
}

}  // namespace
}  // namespace podrt::host
