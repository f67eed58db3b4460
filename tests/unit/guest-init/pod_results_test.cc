// The end of a pod as the host hears it: app-exited per app, then pod-exited.
#include <gtest/gtest.h>

#include <fstream>

#include "common/sys/file.h"
#include "guest-init/pod_results.h"
#include "tests/support/command_runner.h"
#include "tests/unit/guest-init/host_end.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::Frame;
using guest_protocol::FrameType;

supervisor::PodPlan plan_of(const std::string& status_dir, std::vector<std::string> names) {
  supervisor::PodPlan plan;
  plan.status_dir = status_dir;
  for (const std::string& name : names) {
    supervisor::AppSpec app;
    app.name = name;
    plan.apps.push_back(app);
  }
  return plan;
}

TEST(GuestInitPodResults, CodesComeFromTheStatusFilesAndOomFromTheCgroup) {
  podrt::testing::TempDir dir;
  std::ofstream(dir.path() + "/web") << "7\n";
  std::ofstream(dir.path() + "/db") << "0\n";
  ASSERT_TRUE(sys::make_directories(dir.path() + "/cg/web"));
  ASSERT_TRUE(sys::make_directories(dir.path() + "/cg/db"));
  std::ofstream(dir.path() + "/cg/web/memory.events") << "low 0\nmax 3\noom 1\noom_kill 1\n";
  std::ofstream(dir.path() + "/cg/db/memory.events") << "low 0\nmax 0\noom 0\noom_kill 0\n";
  std::vector<cgroups::Cgroup> app_cgroups = {cgroups::Cgroup::adopt({dir.path() + "/cg/web"}),
                                              cgroups::Cgroup::adopt({dir.path() + "/cg/db"})};
  auto results = collect_results(plan_of(dir.path(), {"web", "db", "never"}), app_cgroups, 143);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].app, "web");
  EXPECT_EQ(results[0].code, 7);
  EXPECT_TRUE(results[0].oom);
  EXPECT_EQ(results[1].code, 0);
  EXPECT_FALSE(results[1].oom);
  // Never recorded (the supervisor was killed before): the pod's code.
  EXPECT_EQ(results[2].app, "never");
  EXPECT_EQ(results[2].code, 143);
  EXPECT_FALSE(results[2].oom);
}

TEST(GuestInitPodResults, AppExitedPayloadIsTheProtocolsJson) {
  EXPECT_EQ(app_exited_payload(AppResult{"web", 137, true}),
            R"({"app":"web","code":137,"oom":true})");
  EXPECT_EQ(app_exited_payload(AppResult{"db", 0, false}), R"({"app":"db","code":0,"oom":false})");
}

TEST(GuestInitPodResults, ReportSendsEachAppThenThePod) {
  auto [host, channel] = testing::HostEnd::connect();
  ASSERT_TRUE(report_pod_end(channel, {{"web", 7, false}, {"db", 0, true}}, 7));
  std::vector<Frame> frames = host.read_until(FrameType::kPodExited);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].type, FrameType::kAppExited);
  EXPECT_EQ(frames[0].payload, R"({"app":"web","code":7,"oom":false})");
  EXPECT_EQ(frames[1].payload, R"({"app":"db","code":0,"oom":true})");
  EXPECT_EQ(frames[2].type, FrameType::kPodExited);
  EXPECT_EQ(frames[2].payload, "7");
}

}  // namespace
}  // namespace podrt::guest_init
