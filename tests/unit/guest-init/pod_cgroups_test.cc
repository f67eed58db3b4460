// The pod's cgroups in the guest, on a fake cgroup2 tree (regular files as control files): the
// same conversions as stage1-ns on a v2 host.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/sys/file.h"
#include "guest-init/pod_cgroups.h"
#include "tests/support/command_runner.h"

namespace podrt::guest_init {
namespace {

void put(const std::string& path, const std::string& content) { std::ofstream(path) << content; }

std::string get(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void fake_v2(const std::string& directory) {
  ASSERT_TRUE(sys::make_directories(directory));
  put(directory + "/cgroup.controllers", "cpuset cpu io memory pids\n");
  for (const char* file : {"cgroup.subtree_control", "cgroup.procs", "memory.max", "memory.events",
                           "cpu.weight", "cpu.max", "pids.max"})
    put(directory + "/" + file, "");
}

// The guest's view: guest-init sits in the root of the one cgroup2 hierarchy.
cgroups::Hierarchies guest_root(const std::string& mount_point) {
  return cgroups::Hierarchies{cgroups::CgroupMode::V2,
                              {cgroups::Hierarchy{mount_point, {}, true, "/"}}};
}

guest_protocol::GuestConfig pod_of(std::vector<guest_protocol::GuestApp> apps) {
  guest_protocol::GuestConfig config;
  config.apps = std::move(apps);
  for (const guest_protocol::GuestApp& app : config.apps) {
    supervisor::AppSpec spec;
    spec.name = app.name;
    config.plan.apps.push_back(spec);
  }
  return config;
}

TEST(GuestInitPodCgroups, LimitsForTakesTheAppsIsolators) {
  guest_protocol::GuestApp app;
  app.memory_bytes = 64 << 20;
  app.cpu_shares = 512;
  app.cpu_millicores = 1500;
  app.pids_max = 42;
  cgroups::CgroupLimits limits = limits_for(app);
  EXPECT_EQ(limits.memory_bytes, 64u << 20);
  EXPECT_EQ(limits.cpu_shares, 512u);
  EXPECT_EQ(limits.cpu_millicores, 1500u);
  EXPECT_EQ(limits.pids_max, 42u);
  cgroups::CgroupLimits none = limits_for(guest_protocol::GuestApp{});
  EXPECT_FALSE(none.memory_bytes || none.cpu_shares || none.cpu_millicores || none.pids_max);
}

TEST(GuestInitPodCgroups, MakesAPodCgroupWithAChildPerAppCarryingItsLimits) {
  podrt::testing::TempDir root;
  fake_v2(root.path());
  fake_v2(root.path() + "/pod");
  fake_v2(root.path() + "/pod/web");
  fake_v2(root.path() + "/pod/idle");
  guest_protocol::GuestApp web;
  web.name = "web";
  web.memory_bytes = 64 << 20;
  web.cpu_millicores = 500;
  web.cpu_shares = 1024;
  web.pids_max = 100;
  guest_protocol::GuestApp idle;
  idle.name = "idle";
  guest_protocol::GuestConfig config = pod_of({web, idle});

  auto cgroups = create_pod_cgroups(guest_root(root.path()), "pod", config);
  ASSERT_TRUE(cgroups) << cgroups.error().message();
  ASSERT_EQ(cgroups->size(), 2u);
  std::string web_dir = root.path() + "/pod/web";
  EXPECT_EQ((*cgroups)[0].directories(), std::vector<std::string>{web_dir});
  EXPECT_EQ(get(root.path() + "/cgroup.subtree_control"), "+memory +cpu +pids");
  EXPECT_EQ(get(root.path() + "/pod/cgroup.subtree_control"), "+memory +cpu +pids");
  EXPECT_EQ(get(web_dir + "/memory.max"), "67108864");
  // 500 millicores: half a CPU, 50 ms of every 100 ms.
  EXPECT_EQ(get(web_dir + "/cpu.max"), "50000 100000");
  // cpu.shares 1024 (the v1 default) is cpu.weight 39 in systemd's and crun's mapping.
  EXPECT_EQ(get(web_dir + "/cpu.weight"), "39");
  EXPECT_EQ(get(web_dir + "/pids.max"), "100");
  for (const char* file : {"memory.max", "cpu.max", "cpu.weight", "pids.max"})
    EXPECT_EQ(get(root.path() + "/pod/idle/" + file), "") << file;
  EXPECT_EQ(config.plan.apps[0].cgroup_procs_files,
            std::vector<std::string>{web_dir + "/cgroup.procs"});
  EXPECT_EQ(config.plan.apps[1].cgroup_procs_files,
            std::vector<std::string>{root.path() + "/pod/idle/cgroup.procs"});
}

TEST(GuestInitPodCgroups, ALimitTheKernelRefusesNamesTheApp) {
  podrt::testing::TempDir root;
  fake_v2(root.path());
  fake_v2(root.path() + "/pod");
  fake_v2(root.path() + "/pod/web");
  guest_protocol::GuestApp web;
  web.name = "web";
  web.cpu_millicores = 5;
  guest_protocol::GuestConfig config = pod_of({web});
  auto cgroups = create_pod_cgroups(guest_root(root.path()), "pod", config);
  ASSERT_FALSE(cgroups);
  EXPECT_EQ(cgroups.error().message(),
            "app web: apply limits to cgroup " + root.path() +
                "/pod/web: cpu limit 5m is outside what the kernel accepts (at least 10m)");
}

}  // namespace
}  // namespace podrt::guest_init
