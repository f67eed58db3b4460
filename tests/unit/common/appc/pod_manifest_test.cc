#include "common/appc/pod_manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace podrt::appc {
namespace {

using nlohmann::json;

constexpr const char* kExamples = "/usr/share/doc/appc-spec/examples/";
const std::string kFullId = "sha512-" + std::string(128, '0');

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

json minimal_pod() {
  json doc = json::parse(R"({
    "acKind": "PodManifest", "acVersion": "0.8.11",
    "apps": [{"name": "web", "image": {"name": "example.com/web"},
              "mounts": [{"volume": "data", "path": "/data"}]}],
    "volumes": [{"name": "data", "kind": "host", "source": "/srv/data"}]
  })");
  doc["apps"][0]["image"]["id"] = kFullId;
  return doc;
}

Error parse_error(const json& doc) {
  auto result = PodManifest::parse(doc.dump());
  if (result) return Error::invalid("accepted: " + doc.dump());
  return result.error();
}

TEST(PodManifest, ParsesTheSpecRuntimeExample) {
  std::string path = std::string(kExamples) + "pod_runtime.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing";
  auto pod = PodManifest::parse(read_text(path));
  ASSERT_TRUE(pod) << pod.error().message();
  ASSERT_EQ(pod->apps.size(), 3u);
  ASSERT_NE(pod->app("backup"), nullptr);
  EXPECT_EQ(pod->app("backup")->mounts.size(), 2u);
  EXPECT_EQ(pod->app("backup")->image.labels[0].value, "latest");
  ASSERT_TRUE(pod->apps[0].app);
  EXPECT_EQ(pod->apps[0].app->exec[0], "/usr/bin/reduce-worker");
  ASSERT_NE(pod->volume("buildoutput"), nullptr);
  EXPECT_EQ(pod->volume("buildoutput")->mode, "0777");
  EXPECT_EQ(pod->volume("buildoutput")->uid, 0u);
  EXPECT_EQ(pod->volume("dbvolume")->read_only, true);
  EXPECT_EQ(pod->isolators.size(), 2u);
  EXPECT_EQ(pod->annotations[0].value, "10.1.2.3");
  auto again = PodManifest::parse(pod->to_json().dump());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *pod);
}

TEST(PodManifest, RefusesTheTemplateExampleWithoutImageIds) {
  std::string path = std::string(kExamples) + "pod_template.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing";
  auto pod = PodManifest::parse(read_text(path));
  ASSERT_FALSE(pod);
  EXPECT_EQ(pod.error().message(), "pod manifest: apps[1].image.id is required");
}

TEST(PodManifest, RoundTripsEveryField) {
  json doc = minimal_pod();
  doc["apps"][0]["readOnlyRootFS"] = true;
  doc["apps"][0]["mounts"].push_back(
      {{"volume", "scratch"}, {"path", "/tmp"}, {"appVolume", {{"name", "scratch"}, {"kind", "empty"}}}});
  doc["apps"][0]["app"] = {{"exec", {"/bin/web"}}, {"user", "1"}, {"group", "1"}};
  doc["volumes"][0]["readOnly"] = false;
  doc["volumes"][0]["recursive"] = true;
  doc["volumes"].push_back({{"name", "tmp"}, {"kind", "empty"}, {"mode", "1777"}, {"uid", 5}, {"gid", 6}});
  doc["ports"] = {{{"name", "http"}, {"hostPort", 8080}, {"hostIP", "127.0.0.1"},
                   {"podPort", {{"name", "http"}, {"protocol", "tcp"}, {"port", 80}}}}};
  doc["userAnnotations"] = {{"owner", "me"}};
  doc["userLabels"] = {{"env", "test"}};
  auto pod = PodManifest::parse(doc.dump());
  ASSERT_TRUE(pod) << pod.error().message();
  EXPECT_TRUE(pod->apps[0].read_only_root_fs);
  ASSERT_TRUE(pod->apps[0].mounts[1].app_volume);
  EXPECT_EQ(pod->volumes[1].gid, 6u);
  EXPECT_EQ(pod->ports[0].host_port, 8080);
  EXPECT_EQ(pod->ports[0].pod_port->port, 80);
  EXPECT_EQ(pod->user_labels.at("env"), "test");
  auto again = PodManifest::parse(pod->to_json().dump());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *pod);
}

TEST(PodManifest, EnforcesTheSchema) {
  struct Case {
    std::function<void(json&)> mutate;
    const char* expected;
  };
  const Case cases[] = {
      {[](json& d) { d["acKind"] = "ImageManifest"; }, "acKind \"ImageManifest\" is not"},
      {[](json& d) { d["acVersion"] = "x"; }, "acVersion \"x\""},
      {[](json& d) { d.erase("apps"); }, "apps is required"},
      {[](json& d) { d["apps"][0]["name"] = "Web"; }, "apps[0].name \"Web\" is not a valid AC name"},
      {[](json& d) { d["apps"].push_back(d["apps"][0]); }, "apps[1]: duplicate app name \"web\""},
      {[](json& d) { d["apps"][0].erase("image"); }, "apps[0].image is required"},
      {[](json& d) { d["apps"][0]["image"]["id"] = "sha512-abc"; }, "must be a full image ID"},
      {[](json& d) { d["apps"][0]["image"]["id"] = "md5-abc"; }, "apps[0].image.id: \"md5-abc\""},
      {[](json& d) { d["apps"][0]["image"]["name"] = "A"; }, "apps[0].image.name \"A\""},
      {[](json& d) { d["apps"][0]["app"] = {{"user", "0"}}; }, "apps[0].app: group is required"},
      {[](json& d) { d["apps"][0]["readOnlyRootFS"] = "yes"; }, "readOnlyRootFS must be a boolean"},
      {[](json& d) { d["apps"][0]["mounts"][0]["volume"] = "other"; },
       "apps[0].mounts[0].volume \"other\" is not a volume of the pod"},
      {[](json& d) { d["apps"][0]["mounts"][0]["path"] = "data"; }, "must be an absolute path"},
      {[](json& d) { d["volumes"].push_back(d["volumes"][0]); }, "duplicate volume name \"data\""},
      {[](json& d) { d["volumes"][0]["kind"] = "tmpfs"; }, "\"tmpfs\" is not a volume kind"},
      {[](json& d) { d["volumes"][0].erase("source"); }, "volumes[0].source is required"},
      {[](json& d) { d["volumes"][0]["source"] = "srv"; }, "volumes[0].source \"srv\" must be an absolute"},
      {[](json& d) { d["volumes"][0]["mode"] = "0999"; }, "is not an octal mode"},
      {[](json& d) { d["volumes"][0]["uid"] = -1; }, "volumes[0].uid -1 is out of range"},
      {[](json& d) { d["volumes"][0]["gid"] = 1e20; }, "volumes[0].gid must be an integer"},
      {[](json& d) { d["ports"] = {{{"name", "http"}}}; }, "ports[0].hostPort is required"},
      {[](json& d) { d["ports"] = {{{"name", "http"}, {"hostPort", 70000}}}; }, "70000 is out of range"},
      {[](json& d) { d["ports"] = {{{"name", "http"}, {"hostPort", 80}, {"hostIP", "1.2.3"}}}; },
       "\"1.2.3\" is not a dotted-quad"},
      {[](json& d) { d["isolators"] = {{{"name", "resource/memory"}, {"value", {{"limit", "?"}}}}}; },
       "isolators[0].value.limit"},
      {[](json& d) { d["annotations"] = {{{"name", "x"}, {"value", "1"}}, {{"name", "x"}, {"value", "2"}}}; },
       "duplicate annotation"},
      {[](json& d) { d["userAnnotations"] = {{"k", {1}}}; }, "userAnnotations[\"k\"] must be a string"},
  };
  for (const Case& item : cases) {
    json doc = minimal_pod();
    item.mutate(doc);
    std::string message = parse_error(doc).message();
    EXPECT_NE(message.find(item.expected), std::string::npos) << message;
    EXPECT_EQ(message.rfind("pod manifest: ", 0), 0u) << message;
  }
}

TEST(PodManifest, SurvivesHostileInput) {
  EXPECT_FALSE(PodManifest::parse("{\"acKind\": \"PodManifest\""));
  EXPECT_FALSE(PodManifest::parse("null"));
  EXPECT_FALSE(PodManifest::parse(std::string(10000, '[')));
  EXPECT_FALSE(PodManifest::parse(R"({"acKind":"PodManifest","acVersion":"0.8.11","apps":{}})"));
}

}  // namespace
}  // namespace podrt::appc
