#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "common/cgroups/cgroup.h"

namespace podrt::cgroups {
namespace {

const Hierarchy* find(const std::vector<Hierarchy>& hierarchies, std::string_view controller) {
  for (const Hierarchy& hierarchy : hierarchies) {
    if (controller.empty() ? hierarchy.unified : hierarchy.has_controller(controller))
      return &hierarchy;
  }
  return nullptr;
}

std::vector<std::string> mount_points(const std::vector<Hierarchy>& hierarchies) {
  std::vector<std::string> points;
  for (const Hierarchy& hierarchy : hierarchies) points.push_back(hierarchy.mount_point);
  std::sort(points.begin(), points.end());
  return points;
}

// A systemd host of the CentOS 7 era: co-mounted cpu,cpuacct, no cgroup2 at all.
constexpr std::string_view kV1Mountinfo =
    "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup "
    "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
    "cgroup rw,memory\n"
    "31 25 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup "
    "rw,pids\n"
    "32 25 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,freezer\n";
constexpr std::string_view kV1Cgroup =
    "11:pids:/user.slice/user-0.slice/session-1.scope\n"
    "6:devices:/user.slice\n"  // a hierarchy this mount namespace does not mount
    "5:memory:/user.slice\n"
    "3:cpu,cpuacct:/user.slice\n"
    "2:freezer:/\n"
    "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n"
    "0::/user.slice/user-0.slice/session-1.scope\n";  // printed even with no cgroup2 mounted

TEST(CgroupHierarchiesTest, ParsesV1WithCoMountedControllers) {
  auto parsed = Hierarchies::parse(kV1Mountinfo, kV1Cgroup);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->mode, CgroupMode::V1);
  EXPECT_EQ(parsed->hierarchies.size(), 5u);  // devices is not mounted: skipped
  EXPECT_EQ(find(parsed->hierarchies, "devices"), nullptr);

  const Hierarchy* cpu = find(parsed->hierarchies, "cpuacct");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(cpu->controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_FALSE(cpu->unified);
  EXPECT_EQ(cpu->own_path, "/user.slice");
  EXPECT_EQ(find(parsed->hierarchies, "pids")->own_path, "/user.slice/user-0.slice/session-1.scope");
  EXPECT_EQ(find(parsed->hierarchies, "name=systemd")->mount_point, "/sys/fs/cgroup/systemd");

  // freezer is mounted but not a pod's; cpu,cpuacct is one hierarchy, used once.
  EXPECT_EQ(mount_points(parsed->for_pods()),
            (std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory",
                                      "/sys/fs/cgroup/pids", "/sys/fs/cgroup/systemd"}));
}

// This host: every v1 controller on its own mount, a controller-less cgroup2 at unified, and
// the memory cgroup inside a sandbox.
constexpr std::string_view kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "45 43 0:4 net:[4026532248] /run/podrt/netns/26126b9b rw shared:4 - nsfs nsfs rw\n";
constexpr std::string_view kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/303cc2fe26709406e5da71e305528ffa\n"
    "3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

TEST(CgroupHierarchiesTest, ParsesHybridHost) {
  auto parsed = Hierarchies::parse(kHybridMountinfo, kHybridCgroup);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->mode, CgroupMode::Hybrid);
  EXPECT_EQ(parsed->hierarchies.size(), 10u);
  EXPECT_EQ(find(parsed->hierarchies, "memory")->own_path,
            "/process_api/303cc2fe26709406e5da71e305528ffa");
  const Hierarchy* unified = find(parsed->hierarchies, "");
  ASSERT_NE(unified, nullptr);
  EXPECT_EQ(unified->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(unified->controllers.empty());
  EXPECT_EQ(unified->own_path, "/");
  EXPECT_EQ(mount_points(parsed->for_pods()),
            (std::vector<std::string>{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
                                      "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                      "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"}));
}

TEST(CgroupHierarchiesTest, ParsesPureV2) {
  auto parsed = Hierarchies::parse(
      "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
      "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n",
      "0::/user.slice/user-1000.slice/session-2.scope\n");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->mode, CgroupMode::V2);
  ASSERT_EQ(parsed->hierarchies.size(), 1u);
  EXPECT_EQ(parsed->hierarchies[0].mount_point, "/sys/fs/cgroup");
  EXPECT_TRUE(parsed->hierarchies[0].unified);
  EXPECT_EQ(parsed->hierarchies[0].own_path, "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(mount_points(parsed->for_pods()), (std::vector<std::string>{"/sys/fs/cgroup"}));
}

TEST(CgroupHierarchiesTest, V2WithALegacyNamedHierarchyIsStillV2) {
  auto parsed = Hierarchies::parse(
      "35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "36 35 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n",
      "1:name=systemd:/a\n0::/a\n");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->mode, CgroupMode::V2);
  EXPECT_EQ(mount_points(parsed->for_pods()), (std::vector<std::string>{"/sys/fs/cgroup"}));
}

TEST(CgroupHierarchiesTest, MakesOwnPathRelativeToTheMountRoot) {
  // A container that sees its own cgroup bind-mounted as /sys/fs/cgroup.
  auto parsed = Hierarchies::parse(
      "900 800 0:30 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n"
      "901 800 0:26 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
      "4:memory:/docker/abc\n0::/docker/abc/init\n");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(find(parsed->hierarchies, "")->own_path, "/init");
  EXPECT_EQ(find(parsed->hierarchies, "memory")->own_path, "/");
}

TEST(CgroupHierarchiesTest, TakesTheMountThatShowsTheCgroup) {
  auto parsed = Hierarchies::parse(
      "900 800 0:30 /other /mnt/other rw - cgroup2 cgroup2 rw\n"
      "901 800 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "0::/mine\n");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->hierarchies.size(), 1u);
  EXPECT_EQ(parsed->hierarchies[0].mount_point, "/sys/fs/cgroup");
  EXPECT_EQ(parsed->hierarchies[0].own_path, "/mine");
}

TEST(CgroupHierarchiesTest, FailsWhenOwnCgroupIsNotVisibleUnderTheMount) {
  auto parsed = Hierarchies::parse(
      "900 800 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "0::/docker/abcdef\n");  // a sibling that merely shares the prefix
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("/docker/abcdef is not below /docker/abc"),
            std::string::npos)
      << parsed.error().message();
}

TEST(CgroupHierarchiesTest, UnescapesMountPoints) {
  auto parsed = Hierarchies::parse(
      "35 24 0:30 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n", "0::/\n");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->hierarchies[0].mount_point, "/mnt/my cgroups");
}

TEST(CgroupHierarchiesTest, NothingMountedIsModeNone) {
  auto parsed = Hierarchies::parse("22 1 253:0 / / rw - ext4 /dev/vda1 rw\n", "0::/\n");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->mode, CgroupMode::None);
  EXPECT_TRUE(parsed->hierarchies.empty());
  EXPECT_TRUE(parsed->for_pods().empty());
}

TEST(CgroupHierarchiesTest, RejectsGarbageWithOneLineErrors) {
  const std::pair<std::string_view, std::string_view> inputs[] = {
      {"hello world\n", "0::/\n"},
      {"35 24 0:30 / /sys/fs/cgroup rw cgroup2 cgroup2 rw\n", "0::/\n"},  // no "-"
      {"35 24 0:30 relative /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n"},
      {"35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2\n", "0::/\n"},  // no super options
      {kHybridMountinfo, "nonsense\n"},
      {kHybridMountinfo, "x:memory:/\n"},
      {kHybridMountinfo, "4:memory:relative\n"},
      {kHybridMountinfo, "4::/\n"},  // a v1 hierarchy without controllers
      {kHybridMountinfo, "0::\n"},
  };
  for (const auto& [mountinfo, cgroup] : inputs) {
    auto parsed = Hierarchies::parse(mountinfo, cgroup);
    ASSERT_FALSE(parsed) << mountinfo << " / " << cgroup;
    EXPECT_EQ(parsed.error().message().find('\n'), std::string::npos);
    EXPECT_NE(parsed.error().message().find("parse"), std::string::npos)
        << parsed.error().message();
  }
}

TEST(CgroupHierarchiesTest, ModeNames) {
  EXPECT_EQ(to_string(CgroupMode::V1), "v1");
  EXPECT_EQ(to_string(CgroupMode::Hybrid), "hybrid");
  EXPECT_EQ(to_string(CgroupMode::V2), "v2");
  EXPECT_EQ(to_string(CgroupMode::None), "none");
}

TEST(CgroupHierarchiesTest, DetectFindsOwnCgroupDirectoriesOnThisHost) {
  auto detected = Hierarchies::detect();
  ASSERT_TRUE(detected) << detected.error().message();
  if (detected->mode == CgroupMode::None) GTEST_SKIP() << "no cgroup hierarchy mounted here";
  for (const Hierarchy& hierarchy : detected->hierarchies) {
    std::string own = hierarchy.mount_point + hierarchy.own_path;
    struct stat st;
    EXPECT_EQ(::stat((own + "/cgroup.procs").c_str(), &st), 0) << own;
  }
}

}  // namespace
}  // namespace podrt::cgroups
