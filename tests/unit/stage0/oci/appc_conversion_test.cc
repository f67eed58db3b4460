// OCI/Docker image config -> appc image manifest, docker2aci style.
#include "stage0/oci/appc_conversion.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/appc/image_manifest.h"

namespace podrt::oci {
namespace {

const std::string kLayer1 = "sha256:" + std::string(64, 'a');
const std::string kLayer2 = "sha256:" + std::string(64, 'b');
const std::string kConfigDigest = "sha256:" + std::string(64, 'c');
const std::string kManifestDigest = "sha256:" + std::string(64, 'd');

FetchedImage image_with(const std::string& config_json) {
  FetchedImage image;
  image.source = "docker://127.0.0.1:5000/busybox:1.36";
  image.name = "127.0.0.1:5000/busybox";
  image.tag = "1.36";
  image.manifest_digest = kManifestDigest;
  image.config_digest = kConfigDigest;
  image.config_json = config_json;
  image.layers.push_back({kLayer1, "application/vnd.oci.image.layer.v1.tar+gzip", 10, ""});
  image.layers.push_back({kLayer2, "application/vnd.oci.image.layer.v1.tar", 20, ""});
  return image;
}

/// A linux/amd64 config whose "config" object is `container` (JSON text).
std::string config_with(const std::string& container) {
  return R"({"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z",)"
         R"("author":"someone","config":)" + container + "}";
}

/// Converts and parses back; fails the test when either step fails.
appc::ImageManifest convert(const FetchedImage& image, const ImageFiles& files = {}) {
  auto json_text = appc_manifest_for(image, files);
  EXPECT_TRUE(json_text) << json_text.error().message();
  if (!json_text) return {};
  auto manifest = appc::ImageManifest::parse(*json_text);
  EXPECT_TRUE(manifest) << manifest.error().message() << "\n" << *json_text;
  return manifest ? *manifest : appc::ImageManifest{};
}
appc::ImageManifest convert_config(const std::string& container, const ImageFiles& files = {}) {
  return convert(image_with(config_with(container)), files);
}

void expect_refused(const FetchedImage& image, const std::string& needle) {
  auto result = appc_manifest_for(image, {});
  ASSERT_FALSE(result) << "converted although it should not: " << *result;
  EXPECT_NE(result.error().message().find(needle), std::string::npos) << result.error().message();
  EXPECT_EQ(result.error().message().find('\n'), std::string::npos) << result.error().message();
}

TEST(AppcConversionTest, ConvertsAFullConfig) {
  appc::ImageManifest manifest = convert_config(R"({
      "Entrypoint": ["/bin/entry", "--flag"], "Cmd": ["serve", "-v"],
      "Env": ["PATH=/usr/bin:/bin", "HOME=/root"], "WorkingDir": "/srv",
      "User": "1000:2000", "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
      "Labels": {"org.opencontainers.image.title": "box"}})");
  EXPECT_EQ(manifest.ac_version, "0.8.11");
  EXPECT_EQ(manifest.name, "127.0.0.1-5000/busybox");
  EXPECT_EQ(manifest.label("version"), "1.36");
  EXPECT_EQ(manifest.label("os"), "linux");
  EXPECT_EQ(manifest.label("arch"), "amd64");
  ASSERT_TRUE(manifest.app);
  const appc::App& app = *manifest.app;
  EXPECT_EQ(app.exec, (std::vector<std::string>{"/bin/entry", "--flag", "serve", "-v"}));
  EXPECT_EQ(app.user, "1000");
  EXPECT_EQ(app.group, "2000");
  EXPECT_EQ(app.working_directory, "/srv");
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(app.environment, (Env{{"PATH", "/usr/bin:/bin"}, {"HOME", "/root"}}));
  ASSERT_EQ(app.ports.size(), 2u);
  std::set<std::string> port_names;
  for (const appc::Port& port : app.ports) {
    port_names.insert(port.name);
    if (port.name == "80-tcp") {
      EXPECT_EQ(port.protocol, "tcp");
      EXPECT_EQ(port.port, 80);
    } else {
      EXPECT_EQ(port.name, "53-udp");
      EXPECT_EQ(port.protocol, "udp");
      EXPECT_EQ(port.port, 53);
    }
  }
  EXPECT_EQ(port_names, (std::set<std::string>{"80-tcp", "53-udp"}));
  EXPECT_EQ(manifest.annotation("podrt/oci-source"), "docker://127.0.0.1:5000/busybox:1.36");
  EXPECT_EQ(manifest.annotation("podrt/oci-config-digest"), kConfigDigest);
  EXPECT_EQ(manifest.annotation("podrt/oci-manifest-digest"), kManifestDigest);
  EXPECT_EQ(manifest.annotation("podrt/oci-layers"), kLayer1 + "," + kLayer2);
  EXPECT_EQ(manifest.annotation("created"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(manifest.annotation("authors"), "someone");
  EXPECT_EQ(manifest.annotation("org.opencontainers.image.title"), "box");
}

TEST(AppcConversionTest, IsDeterministic) {
  FetchedImage image = image_with(config_with(
      R"({"Cmd":["/bin/sh"],"Env":["B=2","A=1"],"ExposedPorts":{"9/tcp":{},"10/tcp":{}},)"
      R"("Labels":{"z":"1","a":"2"}})"));
  auto first = appc_manifest_for(image, {});
  auto second = appc_manifest_for(image, {});
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);
  image.tag = "other";
  auto third = appc_manifest_for(image, {});
  ASSERT_TRUE(third);
  EXPECT_NE(*first, *third);
}

TEST(AppcConversionTest, ExecIsEntrypointThenCmd) {
  EXPECT_EQ(convert_config(R"({"Cmd":["/bin/sh","-c","echo"]})").app->exec,
            (std::vector<std::string>{"/bin/sh", "-c", "echo"}));
  EXPECT_EQ(convert_config(R"({"Entrypoint":["/init"]})").app->exec, std::vector<std::string>{"/init"});
  EXPECT_EQ(convert_config(R"({"Entrypoint":["/init"],"Cmd":null})").app->exec,
            std::vector<std::string>{"/init"});
  // ENTRYPOINT [""] resets the entrypoint: the Cmd alone runs.
  EXPECT_EQ(convert_config(R"({"Entrypoint":[""],"Cmd":["/bin/true"]})").app->exec,
            std::vector<std::string>{"/bin/true"});
}

TEST(AppcConversionTest, WithoutEntrypointOrCmdTheAppHasNoExec) {
  for (const std::string& container : {std::string("{}"), std::string("null"),
                                       std::string(R"({"Entrypoint":null,"Cmd":[]})")}) {
    SCOPED_TRACE(container);
    appc::ImageManifest manifest = convert_config(container);
    ASSERT_TRUE(manifest.app);
    EXPECT_TRUE(manifest.app->exec.empty());
    EXPECT_EQ(manifest.app->user, "0");
    EXPECT_EQ(manifest.app->group, "0");
  }
  // No "config" at all.
  appc::ImageManifest bare = convert(image_with(R"({"architecture":"amd64","os":"linux"})"));
  ASSERT_TRUE(bare.app);
  EXPECT_TRUE(bare.app->exec.empty());
}

TEST(AppcConversionTest, ABareCommandIsResolvedInTheImagesPath) {
  ImageFiles files;
  files.exists = [](const std::string& path) { return path == "/opt/bin/tool" || path == "/bin/sh"; };
  EXPECT_EQ(convert_config(R"({"Env":["PATH=/usr/bin:/opt/bin"],"Cmd":["tool","x"]})", files).app->exec,
            (std::vector<std::string>{"/opt/bin/tool", "x"}));
  // Docker's default PATH when the image sets none.
  EXPECT_EQ(convert_config(R"({"Cmd":["sh"]})", files).app->exec, std::vector<std::string>{"/bin/sh"});
  // Not in the image: left bare for the supervisor's own PATH search (and its error).
  EXPECT_EQ(convert_config(R"({"Cmd":["missing"]})", files).app->exec,
            std::vector<std::string>{"missing"});
  EXPECT_EQ(convert_config(R"({"Cmd":["./relative"]})", files).app->exec,
            std::vector<std::string>{"./relative"});
}

TEST(AppcConversionTest, UserForms) {
  ImageFiles files;
  files.passwd_text = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65533::/:/bin/false\n"
                      "app:x:1000:1001::/home/app:/bin/sh\n";
  struct Case {
    std::string user, want_user, want_group;
  };
  std::vector<Case> cases = {
      {"", "0", "0"},
      {"nobody", "nobody", "65533"},   // the primary group from the image's passwd
      {"1000", "1000", "1001"},        // a listed uid: its primary group too
      {"4242", "4242", "0"},           // not listed: gid 0, as Docker
      {"ghost", "ghost", "0"},
      {"app:staff", "app", "staff"},
      {"1000:50", "1000", "50"},
      {"app:", "app", "1001"},
      {":50", "0", "50"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.user);
    appc::ImageManifest manifest = convert_config(R"({"User":")" + c.user + R"("})", files);
    ASSERT_TRUE(manifest.app);
    EXPECT_EQ(manifest.app->user, c.want_user);
    EXPECT_EQ(manifest.app->group, c.want_group);
  }
  // Without a passwd file a bare name runs with gid 0.
  appc::ImageManifest manifest = convert_config(R"({"User":"nobody"})");
  EXPECT_EQ(manifest.app->group, "0");
}

TEST(AppcConversionTest, EnvironmentSkipsWhatAppcCannotCarry) {
  appc::ImageManifest manifest =
      convert_config(R"({"Env":["A=1","NOEQUALS","B=x=y","A=2","1BAD=z","EMPTY="]})");
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(manifest.app->environment, (Env{{"A", "2"}, {"B", "x=y"}, {"EMPTY", ""}}));
}

TEST(AppcConversionTest, PortsAppcCannotExpressAreLeftOut) {
  appc::ImageManifest manifest = convert_config(
      R"({"ExposedPorts":{"8080":{},"8080/tcp":{},"1/sctp":{},"99999/tcp":{},"0/tcp":{},"x/tcp":{}}})");
  ASSERT_EQ(manifest.app->ports.size(), 1u);
  EXPECT_EQ(manifest.app->ports[0].name, "8080-tcp");
  EXPECT_EQ(manifest.app->ports[0].port, 8080);
}

TEST(AppcConversionTest, RefusesARelativeWorkingDir) {
  expect_refused(image_with(config_with(R"({"WorkingDir":"srv"})")), "WorkingDir");
}

TEST(AppcConversionTest, RefusesOtherOsAndArchitectures) {
  expect_refused(image_with(R"({"architecture":"amd64","os":"windows"})"), "linux images only");
  expect_refused(image_with(R"({"architecture":"amd64"})"), "linux images only");
  expect_refused(image_with(R"({"architecture":"arm64","os":"linux"})"), "amd64 images only");
  expect_refused(image_with(R"({"os":"linux"})"), "amd64 images only");
}

TEST(AppcConversionTest, RefusesMalformedConfigs) {
  expect_refused(image_with("not json"), "image config");
  expect_refused(image_with("[1,2]"), "not a JSON object");
  expect_refused(image_with(config_with(R"({"Cmd":"/bin/sh"})")), "Cmd must be a list of strings");
  expect_refused(image_with(config_with(R"({"Entrypoint":[1]})")), "Entrypoint must be a list of strings");
  expect_refused(image_with(config_with(R"({"User":0})")), "User must be a string");
  expect_refused(image_with(config_with(R"({"Cmd":["","x"]})")), "empty string");
  expect_refused(image_with(config_with(R"("text")")), "\"config\" must be an object");
  expect_refused(image_with(R"({"architecture":"amd64","os":"linux","created":5})"), "created must be a string");
}

TEST(AppcConversionTest, SanitizesNames) {
  struct Case {
    std::string in, want;
  };
  std::vector<Case> cases = {
      {"busybox", "busybox"},
      {"127.0.0.1:5000/busybox", "127.0.0.1-5000/busybox"},
      {"Registry.Example.COM/Team/App", "registry.example.com/team/app"},
      {"localhost:5000/my_repo/sub__name", "localhost-5000/my_repo/sub_name"},
      {"a:/b", "a/b"},
      {"-leading/trailing-", "leading/trailing"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    auto name = appc_name_for(c.in);
    ASSERT_TRUE(name) << name.error().message();
    EXPECT_EQ(*name, c.want);
  }
  for (const std::string& bad : {std::string(""), std::string(":::"), std::string("///")}) {
    auto name = appc_name_for(bad);
    ASSERT_FALSE(name) << *name;
    EXPECT_NE(name.error().message().find("cannot be made an appc image name"), std::string::npos);
  }
  FetchedImage image = image_with(config_with("{}"));
  image.name = "";
  expect_refused(image, "appc image name");
}

TEST(AppcConversionTest, OmitsEmptyTagAndManifestDigest) {
  FetchedImage image = image_with(config_with("{}"));
  image.tag = "";
  image.manifest_digest = "";
  appc::ImageManifest manifest = convert(image);
  EXPECT_FALSE(manifest.label("version"));
  EXPECT_FALSE(manifest.annotation("podrt/oci-manifest-digest"));
}

TEST(AppcConversionTest, ConfigLabelsBecomeAnnotationsOnlyWhenValidAndNotOurs) {
  appc::ImageManifest manifest = convert_config(
      R"({"Labels":{"maintainer":"me","Upper.Case":"no","with space":"no","num":7,)"
      R"("podrt/oci-layers":"sha256:forged","podrt/other":"no","created":"forged"}})");
  EXPECT_EQ(manifest.annotation("maintainer"), "me");
  EXPECT_FALSE(manifest.annotation("Upper.Case"));
  EXPECT_FALSE(manifest.annotation("num"));
  EXPECT_FALSE(manifest.annotation("podrt/other"));
  EXPECT_EQ(manifest.annotation("podrt/oci-layers"), kLayer1 + "," + kLayer2);
  EXPECT_EQ(manifest.annotation("created"), "2024-01-02T03:04:05Z");
}

TEST(AppcConversionTest, LayerListRoundTrips) {
  appc::ImageManifest manifest = convert_config("{}");
  auto digests = layer_digests_of(manifest);
  ASSERT_TRUE(digests) << digests.error().message();
  EXPECT_EQ(*digests, (std::vector<std::string>{kLayer1, kLayer2}));

  FetchedImage no_layers = image_with(config_with("{}"));
  no_layers.layers.clear();
  auto none = layer_digests_of(convert(no_layers));
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->empty());
}

TEST(AppcConversionTest, RefusesBadLayerDigests) {
  FetchedImage image = image_with(config_with("{}"));
  image.layers[1].digest = kLayer1 + ",sha256:x";
  expect_refused(image, "invalid digest");
}

TEST(AppcConversionTest, LayerDigestsOfNeedsAValidAnnotation) {
  appc::ImageManifest manifest;
  manifest.name = "example.com/aci";
  auto absent = layer_digests_of(manifest);
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message().find("podrt/oci-layers"), std::string::npos);
  manifest.annotations.push_back({"podrt/oci-layers", kLayer1 + ",sha512:abc"});
  auto bad = layer_digests_of(manifest);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("sha256"), std::string::npos) << bad.error().message();
  manifest.annotations.back().value = kLayer1 + ",";
  EXPECT_FALSE(layer_digests_of(manifest));
  manifest.annotations.back().value = std::string(64, 'a');
  EXPECT_FALSE(layer_digests_of(manifest));
}

}  // namespace
}  // namespace podrt::oci
