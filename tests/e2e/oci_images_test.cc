// Images from the ecosystem (issue 6): OCI layouts made by umoci, docker-archives written by
// skopeo and pulls from Debian's docker-registry, imported into the store and rendered with
// their layers and whiteouts; hostile layouts and registries refused with nothing half-imported.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/e2e/oci/oci_fixture.h"
#include "tests/e2e/podrt_fixture.h"
#include "tests/support/aci_writer.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;

std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string sha256_of(const std::string& path) {
  CommandResult sum = run_command({"sha256sum", path});
  return "sha256:" + sum.out.substr(0, 64);
}

class OciImages : public PodrtTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(TestImages::get().error(), "") << "the test images are made by umoci and skopeo "
                                                "(scripts/install-deps installs them)";
  }

  /// `podrt --insecure-options=OPTIONS fetch REFERENCE`
  CommandResult fetch_with(const std::string& options, const std::string& reference) {
    return podrt({"--insecure-options=" + options, "fetch", reference});
  }
  std::string fetch_ok(const std::string& options, const std::string& reference) {
    CommandResult result = fetch_with(options, reference);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return trimmed(result.out);
  }

  std::set<std::string> layer_files() const {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(data_dir() + "/cas/layer", ec))
      names.insert(entry.path().filename());
    return names;
  }
  std::string rootfs(const std::string& id) const { return data_dir() + "/cas/tree/" + id + "/rootfs"; }
  std::string image_list() { return podrt_ok({"image", "list"}); }

  /// Expects a refusal in one line that mentions `expected`, and the store as it was.
  void expect_refused(const std::string& options, const std::string& reference,
                      const std::string& expected) {
    std::string before = image_list();
    std::set<std::string> layers_before = layer_files();
    CommandResult refused = fetch_with(options, reference);
    EXPECT_EQ(refused.exit_code, 254) << reference;
    EXPECT_EQ(lines(refused.err).size(), 1u) << refused.err;
    EXPECT_NE(refused.err.find(expected), std::string::npos) << refused.err;
    EXPECT_EQ(image_list(), before) << "the store lists what it listed before";
    EXPECT_EQ(layer_files(), layers_before) << "no layer was half-imported";
    EXPECT_EQ(temporary_entries(), 0u);
  }

  /// A copy of the umoci layout with one more image, tagged `tag`, whose only layer is `layer`
  /// (a tar) and whose config runs /bin/true.
  std::string layout_with_layer(const std::string& layer, const std::string& tag) {
    std::string layout = scratch() + "/layout-" + tag;
    fs::copy(TestImages::get().layout(), layout, fs::copy_options::recursive);
    auto add_blob = [&](const std::string& source) {
      std::string digest = sha256_of(source);
      fs::copy_file(source, layout + "/blobs/sha256/" + digest.substr(7),
                    fs::copy_options::overwrite_existing);
      return digest;
    };
    auto write = [&](const std::string& name, const std::string& text) {
      std::string path = scratch() + "/" + name;
      std::ofstream(path) << text;
      return path;
    };
    std::string layer_digest = add_blob(layer);
    std::string config = write("config.json",
        R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},)"
        R"("rootfs":{"type":"layers","diff_ids":[")" + layer_digest + R"("]}})");
    std::string config_digest = add_blob(config);
    std::string manifest = write("manifest.json",
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        config_digest + R"(","size":)" + std::to_string(fs::file_size(config)) +
        R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
        layer_digest + R"(","size":)" + std::to_string(fs::file_size(layer)) + "}]}");
    std::string manifest_digest = add_blob(manifest);
    std::ofstream(layout + "/index.json")
        << R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")"
        << manifest_digest << R"(","size":)" << fs::file_size(manifest)
        << R"(,"annotations":{"org.opencontainers.image.ref.name":")" << tag << R"("}}]})";
    return layout;
  }
};

TEST_F(OciImages, AnOciLayoutByTagIsRenderedWithItsLayersAndWhiteouts) {
  std::string id = fetch_ok("image", "oci-layout:" + TestImages::get().layout() + ":v2");
  ASSERT_EQ(id.rfind("sha512-", 0), 0u) << id;
  EXPECT_EQ(read_file(rootfs(id) + "/srv/base"), "base\n");
  EXPECT_EQ(read_file(rootfs(id) + "/srv/two"), "two\n") << "the second layer is applied";
  EXPECT_FALSE(fs::exists(rootfs(id) + "/srv/old")) << "the second layer's whiteout removed it";
  for (const auto& entry : fs::recursive_directory_iterator(rootfs(id)))
    EXPECT_EQ(entry.path().filename().string().rfind(".wh.", 0), std::string::npos) << entry.path();
  // The config became the app, as docker2aci made it.
  std::string manifest = podrt_ok({"image", "cat-manifest", id});
  EXPECT_NE(manifest.find("\"GREETING\""), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"workingDirectory\": \"/srv\""), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("echo hello from $GREETING"), std::string::npos) << manifest;
  // Fetching it again finds it in the store.
  EXPECT_EQ(fetch_ok("image", "oci-layout:" + TestImages::get().layout() + ":v2"), id);
}

TEST_F(OciImages, ImagesSharingABaseLayerKeepItOnce) {
  std::string v1 = fetch_ok("image", "oci-layout:" + TestImages::get().layout() + ":v1");
  EXPECT_EQ(layer_files().size(), 1u);
  std::string v2 = fetch_ok("image", "oci-layout:" + TestImages::get().layout() + ":v2");
  EXPECT_EQ(layer_files().size(), 2u) << "v2 adds one layer to v1's";
  EXPECT_NE(v1, v2);
  // A render that went missing is made again from the layers; extract gives the same tree.
  fs::remove_all(data_dir() + "/cas/tree/" + v2);
  podrt_ok({"image", "render", v2, scratch() + "/rendered"});
  EXPECT_EQ(read_file(scratch() + "/rendered/rootfs/srv/two"), "two\n");
  EXPECT_FALSE(fs::exists(scratch() + "/rendered/rootfs/srv/old"));
  podrt_ok({"image", "extract", "--rootfs-only", v2, scratch() + "/extracted"});
  EXPECT_EQ(read_file(scratch() + "/extracted/srv/base"), "base\n");
  CommandResult exported = podrt({"image", "export", v2, scratch() + "/v2.aci"});
  EXPECT_EQ(exported.exit_code, 254);
  EXPECT_NE(exported.err.find("no ACI to export"), std::string::npos) << exported.err;
  podrt_ok({"image", "rm", v2});
  EXPECT_EQ(layer_files().size(), 1u) << "v1 still uses the base layer";
  EXPECT_TRUE(fs::exists(rootfs(v1) + "/srv/old/file"));
  podrt_ok({"image", "rm", v1});
  EXPECT_TRUE(layer_files().empty());
}

TEST_F(OciImages, ADockerArchiveWrittenBySkopeoKeepsItsNameAndTag) {
  std::string id = fetch_ok("image", "docker-archive:" + TestImages::get().docker_archive());
  std::string list = image_list();
  EXPECT_NE(list.find("docker.io/library/busybox"), std::string::npos) << list;
  EXPECT_EQ(read_file(rootfs(id) + "/srv/old/file"), "gone\n");
  std::string manifest = podrt_ok({"image", "cat-manifest", "docker.io/library/busybox:v1"});
  EXPECT_NE(manifest.find("\"GREETING\""), std::string::npos) << manifest;
}

TEST_F(OciImages, ARegistryPullVerifiesAndRendersTheImage) {
  LocalRegistry registry;
  ASSERT_EQ(registry.error(), "");
  ASSERT_EQ(registry.push("oci:" + TestImages::get().layout() + ":v2", "tenant/busybox:v2"), "");
  std::string reference = "docker://" + registry.host() + "/tenant/busybox:v2";

  expect_refused("image", reference, "--insecure-options=http");
  expect_refused("http", reference, "--insecure-options=image");
  expect_refused("image,http", "docker://" + registry.host() + "/tenant/busybox:nope", "nope");

  std::string id = fetch_ok("image,http", reference);
  EXPECT_EQ(read_file(rootfs(id) + "/srv/two"), "two\n");
  EXPECT_FALSE(fs::exists(rootfs(id) + "/srv/old"));
  EXPECT_EQ(layer_files().size(), 2u);
  std::string list = image_list();
  EXPECT_NE(list.find(registry.host().substr(0, 9)), std::string::npos) << list;
}

TEST_F(OciImages, ARegistryThatIsGoneIsOneLine) {
  std::string host;
  {
    LocalRegistry registry;
    ASSERT_EQ(registry.error(), "");
    host = registry.host();
  }
  expect_refused("image,http", "docker://" + host + "/tenant/busybox:v2", host);
}

TEST_F(OciImages, AChangedBlobIsRefusedAndNothingIsHalfImported) {
  std::string layout = scratch() + "/changed";
  fs::copy(TestImages::get().layout(), layout, fs::copy_options::recursive);
  // The biggest blob is the busybox layer: one byte changed, its size the same, and its
  // digest no longer matches.
  fs::path biggest;
  for (const auto& entry : fs::directory_iterator(layout + "/blobs/sha256"))
    if (biggest.empty() || entry.file_size() > fs::file_size(biggest)) biggest = entry.path();
  {
    std::fstream blob(biggest, std::ios::in | std::ios::out | std::ios::binary);
    auto middle = static_cast<std::streamoff>(fs::file_size(biggest) / 2);
    blob.seekg(middle);
    char byte = static_cast<char>(blob.get());
    blob.seekp(middle);
    blob.put(static_cast<char>(~byte));
  }
  expect_refused("image", "oci-layout:" + layout + ":v1", "digest");
  // One byte more: the size no longer matches the manifest's.
  std::ofstream(biggest, std::ios::app) << "x";
  expect_refused("image", "oci-layout:" + layout + ":v1", "size");
}

TEST_F(OciImages, HostileLayersAreRefusedAndNothingOutsideTheRootIsTouched) {
  fs::create_directories(scratch() + "/outside");
  std::ofstream(scratch() + "/outside/canary") << "alive";
  struct Case {
    std::string name;
    std::vector<AciEntry> entries;
  };
  std::vector<Case> cases = {
      {"dotdot", {{.path = "../../outside/evil", .content = "x"}}},
      {"absolute", {{.path = "/outside/evil", .content = "x"}}},
      {"whiteout-dotdot", {{.path = "a/../../outside/.wh.canary", .content = ""}}},
      {"whiteout-through-symlink",
       {{.path = "link", .kind = AciEntry::Kind::Symlink, .link_target = scratch() + "/outside"},
        {.path = "link/.wh.canary", .content = ""}}},
  };
  for (const Case& hostile : cases) {
    SCOPED_TRACE(hostile.name);
    std::string layer = scratch() + "/" + hostile.name + ".tar";
    ASSERT_TRUE(write_aci(layer, hostile.entries).has_value());
    std::string layout = layout_with_layer(layer, hostile.name);
    expect_refused("image", "oci-layout:" + layout + ":" + hostile.name, "layer sha256:");
    EXPECT_EQ(read_file(scratch() + "/outside/canary"), "alive");
    EXPECT_FALSE(fs::exists(scratch() + "/outside/evil"));
  }
}

}  // namespace
}  // namespace podrt::testing
