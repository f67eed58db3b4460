#include "common/appc/image_manifest.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace podrt::appc {
namespace {

using nlohmann::json;

constexpr const char* kExampleImage = "/usr/share/doc/appc-spec/examples/image.json";
const std::string kFullId = "sha512-" + std::string(128, 'f');

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

json minimal_manifest() {
  return json::parse(R"({
    "acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/app",
    "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
    "app": {"exec": ["/bin/app"], "user": "0", "group": "0"}
  })");
}

TEST(ImageManifest, ParsesTheSpecExample) {
  if (!std::filesystem::exists(kExampleImage)) GTEST_SKIP() << kExampleImage << " missing";
  std::string text = read_text(kExampleImage);
  // The example's dependency imageID is the placeholder "sha512-...", which we refuse.
  auto raw = ImageManifest::parse(text);
  ASSERT_FALSE(raw);
  EXPECT_NE(raw.error().message().find("dependencies[0].imageID \"sha512-...\""),
            std::string::npos)
      << raw.error().message();

  size_t at = text.find("sha512-...");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 10, kFullId);
  auto manifest = ImageManifest::parse(text);
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->name, "example.com/reduce-worker");
  EXPECT_EQ(manifest->label("version"), "1.0.0");
  EXPECT_EQ(manifest->label("os"), "linux");
  EXPECT_EQ(manifest->label("missing"), std::nullopt);
  EXPECT_EQ(manifest->annotation("homepage"), "https://example.com");
  ASSERT_TRUE(manifest->app);
  EXPECT_EQ(manifest->app->exec, (std::vector<std::string>{"/usr/bin/reduce-worker", "--quiet"}));
  EXPECT_EQ(manifest->app->user, "100");
  ASSERT_EQ(manifest->app->event_handlers.size(), 2u);
  EXPECT_EQ(manifest->app->event_handlers[1].name, "post-stop");
  ASSERT_EQ(manifest->app->isolators.size(), 5u);
  EXPECT_EQ(manifest->app->isolators[1].value["limit"], "1G");
  ASSERT_EQ(manifest->app->ports.size(), 1u);
  EXPECT_EQ(manifest->app->ports[0].port, 4000);
  EXPECT_TRUE(manifest->app->ports[0].socket_activated);
  EXPECT_EQ(manifest->app->mount_points[0].path, "/var/lib/db");
  ASSERT_EQ(manifest->dependencies.size(), 1u);
  EXPECT_EQ(manifest->dependencies[0].image_id, kFullId);
  EXPECT_EQ(manifest->path_whitelist.size(), 5u);

  auto again = ImageManifest::parse(manifest->to_json().dump());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *manifest);
}

TEST(ImageManifest, RoundTripsEveryField) {
  json doc = minimal_manifest();
  doc["app"]["supplementaryGids"] = {400, 500};
  doc["app"]["workingDirectory"] = "/opt/work";
  doc["app"]["environment"] = json::parse(R"([{"name": "A", "value": "1"}])");
  doc["app"]["ports"] = json::parse(R"([{"name": "ftp", "port": 20000, "count": 1000,
                                         "protocol": "tcp"}])");
  doc["app"]["userAnnotations"] = {{"k", "v"}};
  doc["app"]["userLabels"] = {{"tier", "web"}};
  doc["dependencies"] = json::parse(R"([{"imageName": "example.com/base", "size": 22017258}])");
  doc["annotations"] = json::parse(R"([{"name": "created", "value": "2014-10-27"}])");
  auto manifest = ImageManifest::parse(doc.dump());
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->app->supplementary_gids, (std::vector<uint32_t>{400, 500}));
  EXPECT_EQ(manifest->app->ports[0].count, 1000u);
  EXPECT_EQ(manifest->dependencies[0].size, 22017258u);
  EXPECT_EQ(manifest->app->user_labels.at("tier"), "web");
  auto again = ImageManifest::parse(manifest->to_json().dump());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *manifest);
}

TEST(ImageManifest, IgnoresUnknownFieldsAndAllowsNoExec) {
  json doc = minimal_manifest();
  doc["futureField"] = {1, 2, 3};
  doc["app"].erase("exec");
  auto manifest = ImageManifest::parse(doc.dump());
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_TRUE(manifest->app->exec.empty());
}

TEST(ImageManifest, ReportsWhereJsonIsBroken) {
  auto result = ImageManifest::parse("{\n  \"acKind\": \"ImageManifest\",\n  oops\n}");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "image manifest: not valid JSON (line 3, column 3)");
  EXPECT_FALSE(ImageManifest::parse(""));
  EXPECT_FALSE(ImageManifest::parse("[]"));
}

TEST(ImageManifest, RefusesDeepNesting) {
  json doc = minimal_manifest();
  std::string text = doc.dump();
  text.insert(text.size() - 1, ",\"deep\":" + std::string(100, '[') + std::string(100, ']'));
  auto result = ImageManifest::parse(text);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("nested deeper"), std::string::npos);
}

struct BadCase {
  const char* what;
  std::function<void(json&)> mutate;
  const char* expected;  // a substring of the error message
};

class ImageManifestRule : public ::testing::TestWithParam<BadCase> {};

TEST_P(ImageManifestRule, IsEnforced) {
  json doc = minimal_manifest();
  GetParam().mutate(doc);
  auto result = ImageManifest::parse(doc.dump());
  ASSERT_FALSE(result) << "accepted: " << doc.dump();
  EXPECT_NE(result.error().message().find(GetParam().expected), std::string::npos)
      << result.error().message();
  EXPECT_EQ(result.error().message().rfind("image manifest: ", 0), 0u);
}

json iso(const char* name, json value) { return json::array({{{"name", name}, {"value", value}}}); }

INSTANTIATE_TEST_SUITE_P(
    Rules, ImageManifestRule,
    ::testing::Values(
        BadCase{"kind", [](json& d) { d["acKind"] = "PodManifest"; }, "acKind \"PodManifest\""},
        BadCase{"kind missing", [](json& d) { d.erase("acKind"); }, "acKind is required"},
        BadCase{"version", [](json& d) { d["acVersion"] = "0.8"; }, "acVersion \"0.8\""},
        BadCase{"name", [](json& d) { d["name"] = "Busy Box"; },
                "image manifest: name \"Busy Box\" is not a valid AC identifier"},
        BadCase{"name type", [](json& d) { d["name"] = 5; }, "name must be a string"},
        BadCase{"label name", [](json& d) { d["labels"][0]["name"] = "OS"; },
                "labels[0].name \"OS\""},
        BadCase{"label dup", [](json& d) { d["labels"][1]["name"] = "os"; }, "duplicate label"},
        BadCase{"label name=name",
                [](json& d) { d["labels"].push_back({{"name", "name"}, {"value", "x"}}); },
                "\"name\" is not allowed"},
        BadCase{"os/arch", [](json& d) { d["labels"][1]["value"] = "sparc"; },
                "arch \"sparc\" is not supported for os \"linux\""},
        BadCase{"exec empty", [](json& d) { d["app"]["exec"] = json::array(); },
                "app.exec must not be empty"},
        BadCase{"exec[0] empty", [](json& d) { d["app"]["exec"] = {""}; },
                "app.exec[0] must not be empty"},
        BadCase{"exec type", [](json& d) { d["app"]["exec"] = {1}; },
                "app.exec[0] must be a string"},
        BadCase{"user", [](json& d) { d["app"].erase("user"); }, "app.user is required"},
        BadCase{"group", [](json& d) { d["app"]["group"] = 0; }, "app.group must be a string"},
        BadCase{"gid negative", [](json& d) { d["app"]["supplementaryGIDs"] = {-1}; },
                "app.supplementaryGIDs[0] -1 is out of range"},
        BadCase{"gid fraction", [](json& d) { d["app"]["supplementaryGIDs"] = {1.5}; },
                "must be an integer"},
        BadCase{"gid too big", [](json& d) { d["app"]["supplementaryGIDs"] = {4294967296}; },
                "out of range"},
        BadCase{"handler name",
                [](json& d) { d["app"]["eventHandlers"] = {{{"name", "boot"}, {"exec", {"/x"}}}}; },
                "\"boot\" is not an event"},
        BadCase{"handler dup",
                [](json& d) {
                  d["app"]["eventHandlers"] = {{{"name", "pre-start"}, {"exec", {"/x"}}},
                                               {{"name", "pre-start"}, {"exec", {"/y"}}}};
                },
                "duplicate pre-start handler"},
        BadCase{"handler exec",
                [](json& d) { d["app"]["eventHandlers"] = {{{"name", "post-stop"}}}; },
                "app.eventHandlers[0].exec is required"},
        BadCase{"workdir", [](json& d) { d["app"]["workingDirectory"] = "work"; },
                "app.workingDirectory \"work\" must be an absolute path"},
        BadCase{"env name",
                [](json& d) { d["app"]["environment"] = {{{"name", "A=B"}, {"value", "x"}}}; },
                "\"A=B\" is not a valid environment variable name"},
        BadCase{"env dup",
                [](json& d) {
                  d["app"]["environment"] = {{{"name", "A"}, {"value", "x"}},
                                             {{"name", "A"}, {"value", "y"}}};
                },
                "duplicate variable \"A\""},
        BadCase{"isolator name", [](json& d) { d["app"]["isolators"] = iso("Resource", 1); },
                "app.isolators[0].name \"Resource\""},
        BadCase{"isolator value missing",
                [](json& d) { d["app"]["isolators"] = {{{"name", "x"}}}; },
                "app.isolators[0].value is required"},
        BadCase{"memory",
                [](json& d) { d["app"]["isolators"] = iso("resource/memory", {{"limit", "lots"}}); },
                "is not a valid quantity"},
        BadCase{"cpu", [](json& d) { d["app"]["isolators"] = iso("resource/cpu", json::object()); },
                "needs a \"limit\" or a \"request\""},
        BadCase{"caps",
                [](json& d) {
                  d["app"]["isolators"] =
                      iso("os/linux/capabilities-retain-set", {{"set", {"NET_ADMIN"}}});
                },
                "\"NET_ADMIN\" is not a valid capability name"},
        BadCase{"caps empty",
                [](json& d) {
                  d["app"]["isolators"] =
                      iso("os/linux/capabilities-remove-set", {{"set", json::array()}});
                },
                "set must not be empty"},
        BadCase{"nnp", [](json& d) { d["app"]["isolators"] = iso("os/linux/no-new-privileges", "yes"); },
                "must be a boolean"},
        BadCase{"seccomp errno",
                [](json& d) {
                  d["app"]["isolators"] = iso("os/linux/seccomp-remove-set",
                                              {{"set", {"reboot"}}, {"errno", "eperm"}});
                },
                "is not an errno name"},
        BadCase{"seccomp both",
                [](json& d) {
                  d["app"]["isolators"] = iso("os/linux/seccomp-remove-set", {{"set", {"reboot"}}});
                  d["app"]["isolators"].push_back(
                      {{"name", "os/linux/seccomp-retain-set"}, {"value", {{"set", {"read"}}}}});
                },
                "cannot be used together"},
        BadCase{"oom", [](json& d) { d["app"]["isolators"] = iso("os/linux/oom-score-adj", 1001); },
                "1001 is out of range"},
        BadCase{"cpu shares", [](json& d) { d["app"]["isolators"] = iso("os/linux/cpu-shares", 1); },
                "out of range (want 2 to 262144)"},
        BadCase{"mount name",
                [](json& d) { d["app"]["mountPoints"] = {{{"name", "a.b"}, {"path", "/x"}}}; },
                "app.mountPoints[0].name \"a.b\" is not a valid AC name"},
        BadCase{"mount path",
                [](json& d) { d["app"]["mountPoints"] = {{{"name", "a"}, {"path", "x"}}}; },
                "app.mountPoints[0].path \"x\" must be an absolute path"},
        BadCase{"mount dup",
                [](json& d) {
                  d["app"]["mountPoints"] = {{{"name", "a"}, {"path", "/x"}},
                                             {{"name", "a"}, {"path", "/y"}}};
                },
                "duplicate mount point a"},
        BadCase{"port name",
                [](json& d) {
                  d["app"]["ports"] = {{{"name", "Web"}, {"protocol", "tcp"}, {"port", 80}}};
                },
                "app.ports[0].name \"Web\""},
        BadCase{"port protocol",
                [](json& d) {
                  d["app"]["ports"] = {{{"name", "web"}, {"protocol", "sctp"}, {"port", 80}}};
                },
                "\"sctp\" is not supported (want tcp or udp)"},
        BadCase{"port zero",
                [](json& d) {
                  d["app"]["ports"] = {{{"name", "web"}, {"protocol", "tcp"}, {"port", 0}}};
                },
                "app.ports[0].port 0 is out of range"},
        BadCase{"port big",
                [](json& d) {
                  d["app"]["ports"] = {{{"name", "web"}, {"protocol", "tcp"}, {"port", 65536}}};
                },
                "app.ports[0].port 65536 is out of range"},
        BadCase{"port count",
                [](json& d) {
                  d["app"]["ports"] = {
                      {{"name", "web"}, {"protocol", "tcp"}, {"port", 80}, {"count", 0}}};
                },
                "app.ports[0].count 0 is out of range"},
        BadCase{"dep name", [](json& d) { d["dependencies"] = {{{"imageName", "A"}}}; },
                "dependencies[0].imageName \"A\""},
        BadCase{"dep id",
                [](json& d) { d["dependencies"] = {{{"imageName", "a"}, {"imageID", "sha1-00"}}}; },
                "dependencies[0].imageID \"sha1-00\" is not a valid image ID"},
        BadCase{"dep size",
                [](json& d) { d["dependencies"] = {{{"imageName", "a"}, {"size", -5}}}; },
                "dependencies[0].size -5 is out of range"},
        BadCase{"annotation name",
                [](json& d) { d["annotations"] = {{{"name", "A B"}, {"value", "x"}}}; },
                "annotations[0].name \"A B\""},
        BadCase{"annotation dup",
                [](json& d) {
                  d["annotations"] = {{{"name", "a"}, {"value", "x"}}, {{"name", "a"}, {"value", "y"}}};
                },
                "duplicate annotation \"a\""},
        BadCase{"whitelist", [](json& d) { d["pathWhitelist"] = {"/ok", "rel"}; },
                "pathWhitelist[1] \"rel\" must be an absolute path"},
        BadCase{"labels type", [](json& d) { d["labels"] = "os=linux"; },
                "labels must be an array, not string"},
        BadCase{"user labels", [](json& d) { d["app"]["userLabels"] = {{"k", 1}}; },
                "must be a string"}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) {
      std::string name;
      for (char c : std::string(param_info.param.what)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(ParseApp, ReportsPathsRelativeToTheApp) {
  auto app = parse_app(json::parse(R"({"exec": ["/bin/sh"], "user": "0"})"));
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().message(), "group is required");
  auto good = parse_app(json::parse(R"({"exec": ["sh", "-c", "true"], "user": "0", "group": "0"})"));
  ASSERT_TRUE(good) << good.error().message();
  EXPECT_EQ(app_to_json(*good)["exec"][0], "sh");
}

}  // namespace
}  // namespace podrt::appc
