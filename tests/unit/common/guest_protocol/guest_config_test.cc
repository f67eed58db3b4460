#include "common/guest_protocol/guest_config.h"

#include <gtest/gtest.h>

namespace podrt::guest_protocol {
namespace {

GuestConfig sample() {
  GuestConfig config;
  config.plan.status_dir = "/podrt/status";
  supervisor::AppSpec spec;
  spec.name = "web";
  spec.root = app_root_in_guest("web");
  spec.exec = {"/bin/sh", "-c", "echo hi"};
  config.plan.apps.push_back(spec);
  GuestApp app;
  app.name = "web";
  app.disk = "/dev/vda";
  app.memory_bytes = 64u << 20;
  app.cpu_millicores = 500;
  app.mounts.push_back({"data", "/data", true});
  config.apps.push_back(app);
  config.volumes.push_back({"data", GuestVolume::Kind::kHost, "volume0", true, 0755, 0, 0});
  config.hostname = "tenant";
  config.etc_hosts = "127.0.0.1 localhost\n";
  config.network = GuestNetwork{"172.16.28.5", 24, "172.16.28.1", 1500};
  return config;
}

TEST(GuestConfig, RoundTripsThroughJson) {
  auto parsed = parse_guest_config(to_json(sample()).dump());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->plan.apps[0].root, "/opt/stage2/web/rootfs");
  EXPECT_EQ(parsed->apps[0].disk, "/dev/vda");
  EXPECT_EQ(parsed->apps[0].memory_bytes, 64u << 20);
  EXPECT_EQ(parsed->apps[0].cpu_millicores, 500u);
  EXPECT_FALSE(parsed->apps[0].pids_max);
  ASSERT_EQ(parsed->apps[0].mounts.size(), 1u);
  EXPECT_TRUE(parsed->apps[0].mounts[0].read_only);
  EXPECT_EQ(parsed->volumes[0].kind, GuestVolume::Kind::kHost);
  EXPECT_EQ(parsed->volumes[0].tag, "volume0");
  EXPECT_EQ(parsed->hostname, "tenant");
  ASSERT_TRUE(parsed->network);
  EXPECT_EQ(parsed->network->gateway, "172.16.28.1");
}

TEST(GuestConfig, RefusesWhatCouldEscapeOrDisagree) {
  auto with = [](auto change) {
    nlohmann::json json = to_json(sample());
    change(json);
    return parse_guest_config(json.dump());
  };
  auto escaping_name = with([](nlohmann::json& j) { j["volumes"][0]["name"] = "../etc"; });
  ASSERT_FALSE(escaping_name);
  EXPECT_NE(escaping_name.error().message().find("cannot be a file name"), std::string::npos);
  EXPECT_FALSE(with([](nlohmann::json& j) { j["apps"][0]["mounts"][0]["target"] = "relative"; }));
  EXPECT_FALSE(with([](nlohmann::json& j) { j["apps"][0]["mounts"][0]["volume"] = "other"; }));
  EXPECT_FALSE(with([](nlohmann::json& j) { j["apps"][0]["name"] = "db"; })) << "not the plan's app";
  EXPECT_FALSE(with([](nlohmann::json& j) { j["apps"][0]["fsType"] = "xfs"; }));
  EXPECT_FALSE(with([](nlohmann::json& j) { j["apps"] = nlohmann::json::array(); }));
  auto not_json = parse_guest_config("{");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().message().rfind("guest config: ", 0), 0u) << not_json.error().message();
}

}  // namespace
}  // namespace podrt::guest_protocol
