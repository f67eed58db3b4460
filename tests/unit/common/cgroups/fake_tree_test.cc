// Cgroup on fake cgroupfs trees: temp directories whose control files are regular files, so
// the test sees exactly what was written.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/cgroups/cgroup.h"
#include "common/sys/file.h"
#include "tests/support/command_runner.h"

namespace podrt::cgroups {
namespace {

void put(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

std::string get(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// A cgroup2 directory whose parent delegates `controllers` to it.
void fake_v2(const std::string& directory, const std::string& controllers = "cpu memory pids",
             const std::string& subtree_control = "", const std::string& procs = "") {
  ASSERT_TRUE(sys::make_directories(directory));
  put(directory + "/cgroup.controllers", controllers + "\n");
  put(directory + "/cgroup.subtree_control", subtree_control);
  put(directory + "/cgroup.procs", procs);
  put(directory + "/cgroup.kill", "");
  for (const char* file : {"memory.max", "memory.swap.max", "memory.events", "cpu.weight",
                           "cpu.max", "pids.max"})
    put(directory + "/" + file, "");
}

Hierarchies v2_at(const std::string& mount_point, const std::string& own_path) {
  return Hierarchies{CgroupMode::V2, {Hierarchy{mount_point, {}, true, own_path}}};
}

TEST(CgroupFakeTreeTest, CreateEnablesControllersDownToThePodsParent) {
  testing::TempDir root;
  fake_v2(root.path());
  fake_v2(root.path() + "/podrt");
  auto cgroup = Cgroup::create(v2_at(root.path(), "/"), "podrt/pod1");
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(cgroup->directories(), std::vector<std::string>{root.path() + "/podrt/pod1"});
  EXPECT_EQ(get(root.path() + "/cgroup.subtree_control"), "+memory +cpu +pids");
  EXPECT_EQ(get(root.path() + "/podrt/cgroup.subtree_control"), "+memory +cpu +pids");
  // The pod cgroup itself keeps no controllers for children, so processes may still join it.
  EXPECT_FALSE(sys::path_exists(root.path() + "/podrt/pod1/cgroup.subtree_control"));
  EXPECT_EQ(cgroup->procs_files(),
            std::vector<std::string>{root.path() + "/podrt/pod1/cgroup.procs"});
}

TEST(CgroupFakeTreeTest, CreateEnablesOnlyControllersThatAreOfferedAndMissing) {
  testing::TempDir root;
  fake_v2(root.path(), "cpuset cpu io memory pids", "memory");
  fake_v2(root.path() + "/podrt", "memory pids", "pids");
  ASSERT_TRUE(Cgroup::create(v2_at(root.path(), "/"), "podrt/pod1"));
  EXPECT_EQ(get(root.path() + "/cgroup.subtree_control"), "+cpu +pids");
  EXPECT_EQ(get(root.path() + "/podrt/cgroup.subtree_control"), "+memory");
}

TEST(CgroupFakeTreeTest, CreatePutsThePodBesideACallerCgroupWithProcesses) {
  // "No internal processes": the caller's own cgroup may not delegate, so its parent does.
  testing::TempDir root;
  std::string slice = root.path() + "/user.slice";
  fake_v2(slice, "cpu memory pids", "memory pids");
  fake_v2(slice + "/session-1.scope", "cpu memory pids", "", "1234\n");
  fake_v2(slice + "/podrt");
  auto cgroup = Cgroup::create(v2_at(root.path(), "/user.slice/session-1.scope"), "podrt/pod1");
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(cgroup->directories(), std::vector<std::string>{slice + "/podrt/pod1"});
  EXPECT_EQ(get(slice + "/cgroup.subtree_control"), "+cpu");
  EXPECT_EQ(get(slice + "/session-1.scope/cgroup.subtree_control"), "");
  EXPECT_FALSE(sys::path_exists(slice + "/session-1.scope/podrt"));
}

TEST(CgroupFakeTreeTest, CreatePutsThePodBelowACallerCgroupWithoutProcesses) {
  testing::TempDir root;
  fake_v2(root.path() + "/workload");
  fake_v2(root.path() + "/workload/podrt");
  auto cgroup = Cgroup::create(v2_at(root.path(), "/workload"), "podrt/pod1");
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(cgroup->directories(), std::vector<std::string>{root.path() + "/workload/podrt/pod1"});
  EXPECT_EQ(get(root.path() + "/workload/cgroup.subtree_control"), "+memory +cpu +pids");
}

TEST(CgroupFakeTreeTest, CreateMakesEveryV1Directory) {
  testing::TempDir root;
  Hierarchies hierarchies{CgroupMode::V1,
                          {Hierarchy{root.path() + "/memory", {"memory"}, false, "/sandbox/x"},
                           Hierarchy{root.path() + "/cpu", {"cpu"}, false, "/"},
                           Hierarchy{root.path() + "/freezer", {"freezer"}, false, "/"}}};
  auto cgroup = Cgroup::create(hierarchies, "podrt/pod1");
  ASSERT_TRUE(cgroup) << cgroup.error().message();
  EXPECT_EQ(cgroup->directories(),
            (std::vector<std::string>{root.path() + "/memory/sandbox/x/podrt/pod1",
                                      root.path() + "/cpu/podrt/pod1"}));
  EXPECT_TRUE(sys::path_exists(root.path() + "/memory/sandbox/x/podrt/pod1"));
  EXPECT_FALSE(sys::path_exists(root.path() + "/freezer/podrt"));  // not a pod hierarchy
}

TEST(CgroupFakeTreeTest, CreateRejectsBadNamesAndHostsWithoutCgroups) {
  testing::TempDir root;
  for (std::string_view bad : {"", "/abs", "podrt/../../etc", "podrt//x", "podrt/"}) {
    auto cgroup = Cgroup::create(v2_at(root.path(), "/"), bad);
    ASSERT_FALSE(cgroup) << bad;
    EXPECT_NE(cgroup.error().message().find("create cgroup"), std::string::npos);
  }
  auto none = Cgroup::create(Hierarchies{}, "podrt/pod1");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "create cgroup podrt/pod1: no cgroup hierarchy is mounted");
}

TEST(CgroupFakeTreeTest, CreateChildHandsControllersToIt) {
  testing::TempDir root;
  fake_v2(root.path() + "/pod");
  fake_v2(root.path() + "/pod/app");
  Cgroup pod = Cgroup::adopt({root.path() + "/pod"});
  auto app = pod.create_child("app");
  ASSERT_TRUE(app) << app.error().message();
  EXPECT_EQ(app->directories(), std::vector<std::string>{root.path() + "/pod/app"});
  EXPECT_EQ(get(root.path() + "/pod/cgroup.subtree_control"), "+memory +cpu +pids");
  for (std::string_view bad : {"", "..", "a/b"}) EXPECT_FALSE(pod.create_child(bad)) << bad;
}

TEST(CgroupFakeTreeTest, AddProcessWritesThePidInEveryHierarchy) {
  testing::TempDir root;
  fake_v2(root.path() + "/a");
  fake_v2(root.path() + "/b");
  Cgroup cgroup = Cgroup::adopt({root.path() + "/a", root.path() + "/b"});
  ASSERT_TRUE(cgroup.add_process(4321));
  EXPECT_EQ(get(root.path() + "/a/cgroup.procs"), "4321");
  EXPECT_EQ(get(root.path() + "/b/cgroup.procs"), "4321");
  auto missing = Cgroup::adopt({root.path() + "/gone"}).add_process(1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "add process 1 to cgroup: write 1 to " + root.path() +
                                           "/gone/cgroup.procs: No such file or directory");
}

TEST(CgroupFakeTreeTest, ApplyWritesV2Files) {
  testing::TempDir root;
  fake_v2(root.path() + "/pod");
  Cgroup pod = Cgroup::adopt({root.path() + "/pod"});
  auto applied = pod.apply({.memory_bytes = 64u << 20, .cpu_shares = 1024,
                            .cpu_millicores = 500, .pids_max = 100});
  ASSERT_TRUE(applied) << applied.error().message();
  EXPECT_EQ(get(root.path() + "/pod/memory.max"), "67108864");
  EXPECT_EQ(get(root.path() + "/pod/memory.swap.max"), "0");
  EXPECT_EQ(get(root.path() + "/pod/cpu.weight"), "39");  // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(get(root.path() + "/pod/cpu.max"), "50000 100000");
  EXPECT_EQ(get(root.path() + "/pod/pids.max"), "100");

  // The ends of the shares range map onto the ends of the weight range.
  ASSERT_TRUE(pod.apply({.cpu_shares = 2}));
  EXPECT_EQ(get(root.path() + "/pod/cpu.weight"), "1");
  ASSERT_TRUE(pod.apply({.cpu_shares = 262144}));
  EXPECT_EQ(get(root.path() + "/pod/cpu.weight"), "10000");
  // Absent fields are left alone.
  EXPECT_EQ(get(root.path() + "/pod/memory.max"), "67108864");
}

TEST(CgroupFakeTreeTest, ApplyWithoutSwapAccountingSetsOnlyMemoryMax) {
  testing::TempDir root;
  fake_v2(root.path() + "/pod");
  ASSERT_EQ(::unlink((root.path() + "/pod/memory.swap.max").c_str()), 0);
  ASSERT_TRUE(Cgroup::adopt({root.path() + "/pod"}).apply({.memory_bytes = 4096}));
  EXPECT_EQ(get(root.path() + "/pod/memory.max"), "4096");
  EXPECT_FALSE(sys::path_exists(root.path() + "/pod/memory.swap.max"));
}

TEST(CgroupFakeTreeTest, ApplyWritesV1Files) {
  testing::TempDir root;
  std::string memory = root.path() + "/memory/pod", cpu = root.path() + "/cpu/pod",
              pids = root.path() + "/pids/pod", systemd = root.path() + "/systemd/pod";
  for (const std::string& directory : {memory, cpu, pids, systemd}) {
    ASSERT_TRUE(sys::make_directories(directory));
    put(directory + "/cgroup.procs", "");
  }
  for (const char* file : {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"})
    put(memory + "/" + file, "");
  for (const char* file : {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"})
    put(cpu + "/" + file, "");
  put(pids + "/pids.max", "");
  Cgroup pod = Cgroup::adopt({systemd, memory, cpu, pids});
  auto applied = pod.apply({.memory_bytes = 32u << 20, .cpu_shares = 512,
                            .cpu_millicores = 1500, .pids_max = 7});
  ASSERT_TRUE(applied) << applied.error().message();
  EXPECT_EQ(get(memory + "/memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(get(memory + "/memory.memsw.limit_in_bytes"), "33554432");
  EXPECT_EQ(get(cpu + "/cpu.shares"), "512");
  EXPECT_EQ(get(cpu + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(get(cpu + "/cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(get(pids + "/pids.max"), "7");
}

TEST(CgroupFakeTreeTest, ApplyRejectsZeroAndOutOfRangeValuesWritingNothing) {
  testing::TempDir root;
  fake_v2(root.path() + "/pod");
  Cgroup pod = Cgroup::adopt({root.path() + "/pod"});
  const CgroupLimits bad[] = {{.memory_bytes = 0}, {.cpu_shares = 0}, {.cpu_shares = 1},
                              {.cpu_shares = 262145}, {.cpu_millicores = 0},
                              {.cpu_millicores = 9}, {.pids_max = 0},
                              {.memory_bytes = 4096, .pids_max = 0}};
  for (const CgroupLimits& limits : bad) {
    auto applied = pod.apply(limits);
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().message().rfind("apply limits to cgroup " + root.path() + "/pod: ", 0),
              0u)
        << applied.error().message();
    EXPECT_EQ(applied.error().message().find('\n'), std::string::npos);
  }
  for (const char* file : {"memory.max", "cpu.weight", "cpu.max", "pids.max"})
    EXPECT_EQ(get(root.path() + "/pod/" + file), "") << file;
}

TEST(CgroupFakeTreeTest, ApplyFailsWhenNoHierarchyHasTheController) {
  testing::TempDir root;
  fake_v2(root.path() + "/pod");
  ASSERT_EQ(::unlink((root.path() + "/pod/pids.max").c_str()), 0);
  auto applied = Cgroup::adopt({root.path() + "/pod"}).apply({.pids_max = 10});
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().message(),
            "apply limits to cgroup " + root.path() + "/pod: no hierarchy has the pids controller");
}

TEST(CgroupFakeTreeTest, OomKillCountReadsMemoryEventsOnV2) {
  testing::TempDir root;
  fake_v2(root.path() + "/pod");
  put(root.path() + "/pod/memory.events",
      "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n");
  auto count = Cgroup::adopt({root.path() + "/pod"}).oom_kill_count();
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(*count, 2u);
}

TEST(CgroupFakeTreeTest, OomKillCountAddsUpTheSubtreeOnV1) {
  testing::TempDir root;
  std::string pod = root.path() + "/memory/pod";
  ASSERT_TRUE(sys::make_directories(pod + "/app"));
  put(pod + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  put(pod + "/app/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  auto count = Cgroup::adopt({root.path() + "/unified-pod", pod}).oom_kill_count();
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(*count, 3u);
}

TEST(CgroupFakeTreeTest, OomKillCountIsZeroWithoutMemoryHierarchy) {
  testing::TempDir root;
  auto count = Cgroup::adopt({root.path()}).oom_kill_count();
  ASSERT_TRUE(count) << count.error().message();
  EXPECT_EQ(*count, 0u);
}

}  // namespace
}  // namespace podrt::cgroups
