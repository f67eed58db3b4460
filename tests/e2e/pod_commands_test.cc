// podrt prepare | list | status | cat-manifest | rm | gc on prepared pods.
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "tests/e2e/podrt_fixture.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;

class PodCommands : public PodrtTest {
 protected:
  std::string prepare(std::vector<std::string> args) {
    args.insert(args.begin(), {"--insecure-options=image", "prepare"});
    std::string out = podrt_ok(args);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

TEST_F(PodCommands, PrepareWritesAPreparedPodWithRktsLayout) {
  std::string uuid = prepare({image_path("busybox.aci"), "--exec", "/bin/echo", "--", "hi", "there"});
  ASSERT_TRUE(std::regex_match(uuid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << uuid;
  std::string pod = data_dir() + "/pods/prepared/" + uuid;
  EXPECT_TRUE(fs::is_regular_file(pod + "/pod"));
  EXPECT_TRUE(fs::is_regular_file(pod + "/appsinfo/busybox/manifest"));
  EXPECT_TRUE(fs::is_regular_file(pod + "/appsinfo/busybox/treeStoreID"));
  EXPECT_TRUE(fs::is_directory(pod + "/overlay/busybox/upper"));

  nlohmann::json manifest = nlohmann::json::parse(podrt_ok({"cat-manifest", uuid}));
  EXPECT_EQ(manifest["acKind"], "PodManifest");
  ASSERT_EQ(manifest["apps"].size(), 1u);
  EXPECT_EQ(manifest["apps"][0]["name"], "busybox");
  EXPECT_EQ(manifest["apps"][0]["image"]["name"], "example.com/busybox");
  EXPECT_EQ(manifest["apps"][0]["app"]["exec"],
            nlohmann::json::array({"/bin/echo", "hi", "there"}));
}

TEST_F(PodCommands, ListAndStatusShowThePreparedPod) {
  std::string uuid = prepare({image_path("busybox.aci")});
  std::vector<std::string> table = lines(podrt_ok({"list"}));
  ASSERT_EQ(table.size(), 2u);
  EXPECT_NE(table[1].find(uuid.substr(0, 8)), std::string::npos);
  EXPECT_NE(table[1].find("prepared"), std::string::npos);
  EXPECT_NE(table[1].find("example.com/busybox"), std::string::npos);

  nlohmann::json pods = nlohmann::json::parse(podrt_ok({"list", "--format=json"}));
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["name"], uuid);
  EXPECT_EQ(pods[0]["state"], "prepared");

  // A unique prefix is enough, as in rkt.
  std::string status = podrt_ok({"status", uuid.substr(0, 6)});
  EXPECT_NE(status.find("state=prepared"), std::string::npos) << status;
  EXPECT_NE(status.find("exited=false"), std::string::npos) << status;
}

TEST_F(PodCommands, TwoAppsFromOneImageGetDistinctNames) {
  fetch(image_path("busybox.aci"));
  std::string uuid = prepare({"example.com/busybox", "example.com/busybox"});
  nlohmann::json manifest = nlohmann::json::parse(podrt_ok({"cat-manifest", uuid}));
  ASSERT_EQ(manifest["apps"].size(), 2u);
  EXPECT_EQ(manifest["apps"][0]["name"], "busybox");
  EXPECT_EQ(manifest["apps"][1]["name"], "busybox-2");
}

TEST_F(PodCommands, RmRemovesAPreparedPod) {
  std::string uuid = prepare({image_path("busybox.aci")});
  podrt_ok({"rm", uuid});
  EXPECT_EQ(podrt_ok({"list", "--no-legend"}), "");
  EXPECT_FALSE(fs::exists(data_dir() + "/pods/prepared/" + uuid));
  EXPECT_FALSE(fs::exists(data_dir() + "/pods/garbage/" + uuid));
}

TEST_F(PodCommands, GcExpiresPreparedPodsAndAbortedPrepares) {
  std::string kept = prepare({image_path("busybox.aci")});
  // An aborted prepare: a pod dir in prepare/ that nobody holds a lock on.
  std::string aborted = "0123abcd-0000-4000-8000-000000000000";
  fs::create_directories(data_dir() + "/pods/prepare/" + aborted);
  EXPECT_NE(podrt_ok({"list"}).find("aborted prepare"), std::string::npos);

  std::string out = podrt_ok({"gc", "--grace-period=0"});
  EXPECT_NE(out.find(aborted), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(data_dir() + "/pods/prepare/" + aborted));
  EXPECT_FALSE(fs::exists(data_dir() + "/pods/garbage/" + aborted));
  EXPECT_NE(podrt_ok({"list"}).find(kept.substr(0, 8)), std::string::npos);

  // With --expire-prepared=0 the prepared pod goes too; --mark-only keeps it as garbage.
  podrt_ok({"gc", "--expire-prepared=0", "--mark-only"});
  EXPECT_TRUE(fs::exists(data_dir() + "/pods/garbage/" + kept));
  podrt_ok({"gc", "--grace-period=0"});
  EXPECT_EQ(podrt_ok({"list", "--no-legend"}), "");
}

TEST_F(PodCommands, BadUuidsAreOneLineErrors) {
  for (std::string command : {"status", "cat-manifest", "rm"}) {
    for (std::string uuid : {"0000", "not-a-uuid"}) {
      CommandResult result = podrt({command, uuid});
      EXPECT_EQ(result.exit_code, 254) << command << " " << uuid;
      EXPECT_EQ(lines(result.err).size(), 1u) << result.err;
      EXPECT_NE(result.err.find(uuid), std::string::npos) << result.err;
    }
  }
}

TEST_F(PodCommands, FailedPrepareLeavesNoPod) {
  fetch(image_path("busybox.aci"));
  CommandResult result = podrt({"prepare", "example.com/busybox", "--exec", "relative/path"});
  EXPECT_EQ(result.exit_code, 254);
  EXPECT_NE(result.err.find("absolute"), std::string::npos) << result.err;
  EXPECT_EQ(podrt_ok({"list", "--no-legend"}), "");
  for (const char* state : {"embryo", "prepare", "prepared", "garbage"})
    EXPECT_TRUE(fs::is_empty(data_dir() + "/pods/" + state)) << state;
}

}  // namespace
}  // namespace podrt::testing
