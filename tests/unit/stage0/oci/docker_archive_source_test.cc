// docker-archive: archives built here (good and hostile, members in any order) and one skopeo wrote.
#include "stage0/oci/docker_archive_source.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "common/sys/file.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/oci_layout_source.h"
#include "stage0/oci/oci_manifest.h"
#include "tests/support/command_runner.h"
#include "tests/unit/stage0/image/aci_test_archives.h"
#include "tests/unit/stage0/oci/sha256_of.h"
#include "tests/support/directory_entries.h"

namespace podrt::oci {
namespace {

using ::podrt::testing::directory_entries;

using ::podrt::oci::testing::sha256_of;

using image::testing::dir_entry;
using image::testing::file_entry;
using image::testing::hardlink_entry;
using image::testing::make_tar;
using image::testing::symlink_entry;
using image::testing::TarEntry;
using nlohmann::json;
using podrt::testing::TempDir;

constexpr uint64_t kNoLimit = UINT64_MAX;

std::string config_for(const std::vector<std::string>& layers) {
  json diff_ids = json::array();
  for (const std::string& layer : layers) diff_ids.push_back(sha256_of(layer));
  return json({{"architecture", "amd64"}, {"os", "linux"}, {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}})
      .dump();
}

std::string manifest_json(const std::string& config, const std::vector<std::string>& layers,
                          const json& repo_tags = json::array({"busybox:1.0"})) {
  return json::array({{{"Config", config}, {"RepoTags", repo_tags}, {"Layers", layers}}}).dump();
}

class DockerArchiveSourceTest : public ::testing::Test {
 protected:
  DockerArchiveSourceTest() { EXPECT_TRUE(sys::make_directories(work_dir())); }
  std::string work_dir() const { return dir_.path() + "/work"; }

  std::string write_archive(const std::vector<TarEntry>& entries, const std::string& name = "saved.tar") {
    std::string path = dir_.path() + "/" + name;
    EXPECT_TRUE(sys::write_file_atomic(path, make_tar(entries)));
    return path;
  }
  /// The legacy `docker save` shape: <id>/layer.tar per layer, manifest.json last.
  std::vector<TarEntry> legacy_archive(const json& repo_tags = json::array({"busybox:1.0"})) {
    std::string config = config_for({layer_a_, layer_b_});
    return {dir_entry("1111/"), file_entry("1111/layer.tar", layer_a_), file_entry("1111/VERSION", "1.0"),
            dir_entry("2222/"), file_entry("2222/layer.tar", layer_b_),
            file_entry("cafe.json", config),
            file_entry("repositories", R"({"busybox":{"1.0":"2222"}})"),
            file_entry("manifest.json", manifest_json("cafe.json", {"1111/layer.tar", "2222/layer.tar"}, repo_tags))};
  }
  Result<FetchedImage> read(const std::string& path, const LayerLookup& have_layer = nullptr,
                            uint64_t max_bytes = kNoLimit) {
    return read_docker_archive(path, work_dir(), have_layer, max_bytes);
  }
  std::string error_of(const std::vector<TarEntry>& entries, uint64_t max_bytes = kNoLimit) {
    auto result = read(write_archive(entries), nullptr, max_bytes);
    if (result) return "(read)";
    EXPECT_EQ(result.error().message().find('\n'), std::string::npos);
    EXPECT_TRUE(directory_entries(work_dir()).empty()) << "a failed read left files behind";
    return result.error().message();
  }

  TempDir dir_;
  const std::string layer_a_ = make_tar({file_entry("a", "hello a")});
  const std::string layer_b_ = make_tar({file_entry("b", "hello b")});
};

TEST_F(DockerArchiveSourceTest, ReadsADockerSave) {
  std::string path = write_archive(legacy_archive());
  auto image = read(path);
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->source, "docker-archive:" + path);
  EXPECT_EQ(image->name, "busybox");
  EXPECT_EQ(image->tag, "1.0");
  EXPECT_EQ(image->manifest_digest, "");
  EXPECT_EQ(image->config_json, config_for({layer_a_, layer_b_}));
  EXPECT_EQ(image->config_digest, sha256_of(image->config_json));
  ASSERT_EQ(image->layers.size(), 2u);
  EXPECT_EQ(image->layers[0].digest, sha256_of(layer_a_));
  EXPECT_EQ(image->layers[0].size, layer_a_.size());
  EXPECT_TRUE(is_layer_media_type(image->layers[0].media_type));
  EXPECT_EQ(sys::read_file(image->layers[0].path).value_or(""), layer_a_);
  EXPECT_EQ(sys::read_file(image->layers[1].path).value_or(""), layer_b_);
  // Only the layers stay behind in the work directory.
  EXPECT_EQ(directory_entries(work_dir()).size(), 2u);
}

TEST_F(DockerArchiveSourceTest, ManifestFirstAndHexNamedLayersWork) {
  std::string config = config_for({layer_a_});
  std::string layer_name = sha256_of(layer_a_).substr(7) + ".tar";
  auto image = read(write_archive({file_entry("./manifest.json", manifest_json("c.json", {layer_name})),
                                   file_entry(layer_name, layer_a_), file_entry("c.json", config)}));
  ASSERT_TRUE(image) << image.error().message();
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_EQ(image->layers[0].digest, sha256_of(layer_a_));
}

TEST_F(DockerArchiveSourceTest, NamesComeFromRepoTagsOrTheFileName) {
  auto registry = read(write_archive(legacy_archive(json::array({"localhost:5000/a/b:t", "other:x"}))));
  ASSERT_TRUE(registry) << registry.error().message();
  EXPECT_EQ(registry->name, "localhost:5000/a/b");
  EXPECT_EQ(registry->tag, "t");

  auto untagged_ref = read(write_archive(legacy_archive(json::array({"localhost:5000/a"})), "b.tar"));
  ASSERT_TRUE(untagged_ref) << untagged_ref.error().message();
  EXPECT_EQ(untagged_ref->name, "localhost:5000/a");
  EXPECT_EQ(untagged_ref->tag, "");

  auto untagged = read(write_archive(legacy_archive(nullptr), "my-image.tar"));
  ASSERT_TRUE(untagged) << untagged.error().message();
  EXPECT_EQ(untagged->name, "my-image");
  EXPECT_EQ(untagged->tag, "");
}

TEST_F(DockerArchiveSourceTest, DropsLayersTheStoreHas) {
  std::string known = sha256_of(layer_a_);
  auto image = read(write_archive(legacy_archive()), [&](const std::string& digest) { return digest == known; });
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->layers[0].path, "");
  EXPECT_EQ(image->layers[0].digest, known);
  ASSERT_NE(image->layers[1].path, "");
  EXPECT_EQ(directory_entries(work_dir()).size(), 1u);
}

TEST_F(DockerArchiveSourceTest, ResolvesLinksBetweenMembers) {
  // docker save and skopeo link a repeated layer to the first copy.
  std::string config = config_for({layer_a_, layer_a_, layer_a_});
  auto image = read(write_archive({file_entry("1111/layer.tar", layer_a_),
                                   symlink_entry("2222/layer.tar", "../1111/layer.tar"),
                                   hardlink_entry("3333/layer.tar", "1111/layer.tar"),
                                   file_entry("c.json", config),
                                   file_entry("manifest.json", manifest_json("c.json", {"1111/layer.tar", "2222/layer.tar",
                                                                                        "3333/layer.tar"}))}));
  ASSERT_TRUE(image) << image.error().message();
  ASSERT_EQ(image->layers.size(), 3u);
  EXPECT_EQ(image->layers[1].path, image->layers[0].path);
  EXPECT_EQ(image->layers[2].digest, sha256_of(layer_a_));
}

TEST_F(DockerArchiveSourceTest, RefusesALayerLinkLeadingOutside) {
  std::string config = config_for({layer_a_});
  std::string message = error_of({symlink_entry("1111/layer.tar", "../../../etc/passwd"), file_entry("c.json", config),
                                   file_entry("manifest.json", manifest_json("c.json", {"1111/layer.tar"}))});
  EXPECT_NE(message.find("links outside the archive"), std::string::npos) << message;
  message = error_of({symlink_entry("1111/layer.tar", "/etc/passwd"), file_entry("c.json", config),
                      file_entry("manifest.json", manifest_json("c.json", {"1111/layer.tar"}))});
  EXPECT_NE(message.find("links outside the archive"), std::string::npos) << message;
}

TEST_F(DockerArchiveSourceTest, RefusesHostileMemberNames) {
  std::string message = error_of({file_entry("../evil", "x"), file_entry("manifest.json", "[]")});
  EXPECT_NE(message.find("\"..\""), std::string::npos) << message;
  EXPECT_NE(message.find("../evil"), std::string::npos) << message;
  EXPECT_NE(error_of({file_entry("a/../../evil", "x")}).find("\"..\""), std::string::npos);
  EXPECT_NE(error_of({file_entry("/etc/evil", "x")}).find("absolute"), std::string::npos);
  // A manifest naming a layer outside the archive does not reach the file system either.
  std::string config = config_for({layer_a_});
  EXPECT_NE(error_of({file_entry("c.json", config),
                      file_entry("manifest.json", manifest_json("c.json", {"../../etc/passwd"}))}),
            "(read)");
}

TEST_F(DockerArchiveSourceTest, RefusesADiffIdMismatch) {
  std::string config = config_for({layer_b_});
  std::string message = error_of({file_entry("1111/layer.tar", layer_a_), file_entry("c.json", config),
                                  file_entry("manifest.json", manifest_json("c.json", {"1111/layer.tar"}))});
  EXPECT_NE(message.find("digest mismatch: expected " + sha256_of(layer_b_) + ", got " + sha256_of(layer_a_)),
            std::string::npos)
      << message;
  std::string two = config_for({layer_a_, layer_b_});
  message = error_of({file_entry("1111/layer.tar", layer_a_), file_entry("c.json", two),
                      file_entry("manifest.json", manifest_json("c.json", {"1111/layer.tar"}))});
  EXPECT_NE(message.find("2 diff_ids"), std::string::npos) << message;
}

TEST_F(DockerArchiveSourceTest, RefusesMoreThanOneImage) {
  std::string config = config_for({layer_a_});
  json one = {{"Config", "c.json"}, {"RepoTags", json::array({"a:1"})}, {"Layers", json::array({"l.tar"})}};
  std::string message = error_of({file_entry("l.tar", layer_a_), file_entry("c.json", config),
                                  file_entry("manifest.json", json::array({one, one}).dump())});
  EXPECT_NE(message.find("lists 2 images"), std::string::npos) << message;
  EXPECT_NE(message.find("single image"), std::string::npos) << message;
}

TEST_F(DockerArchiveSourceTest, RefusesOverTheLimit) {
  std::vector<TarEntry> entries = legacy_archive();
  std::string message = error_of(entries, layer_a_.size());
  EXPECT_NE(message.find("more than the limit of " + std::to_string(layer_a_.size()) + " bytes"), std::string::npos)
      << message;
}

TEST_F(DockerArchiveSourceTest, RefusesMissingOrBrokenPieces) {
  EXPECT_NE(error_of({file_entry("1111/layer.tar", layer_a_)}).find("no manifest.json"), std::string::npos);
  EXPECT_NE(error_of({file_entry("manifest.json", "{not json")}).find("manifest.json"), std::string::npos);
  EXPECT_NE(error_of({file_entry("manifest.json", manifest_json("c.json", {"l.tar"}))}).find("no member"),
            std::string::npos);
  EXPECT_NE(error_of({file_entry("manifest.json", "[]"), file_entry("manifest.json", "[]")}).find("twice"),
            std::string::npos);
  std::string config = config_for({layer_a_});
  EXPECT_NE(error_of({file_entry("c.json", config), file_entry("manifest.json", manifest_json("c.json", {}))})
                .find("no layers"),
            std::string::npos);
  EXPECT_NE(error_of({file_entry("l.tar", layer_a_), file_entry("c.json", "[1]"),
                      file_entry("manifest.json", manifest_json("c.json", {"l.tar"}))}),
            "(read)");
  ASSERT_TRUE(sys::write_file_atomic(dir_.path() + "/garbage.tar", std::string(4096, 'x')));
  EXPECT_FALSE(read(dir_.path() + "/garbage.tar"));
  EXPECT_FALSE(read(dir_.path() + "/missing.tar"));
}

// A real archive: umoci builds an image, skopeo saves it as a docker-archive, podrt reads both.
TEST_F(DockerArchiveSourceTest, ReadsAnArchiveSkopeoWrote) {
  if (podrt::testing::run_command({"umoci", "--version"}).exit_code != 0) GTEST_SKIP() << "umoci is not installed";
  if (podrt::testing::run_command({"skopeo", "--version"}).exit_code != 0) GTEST_SKIP() << "skopeo is not installed";
  std::string layout = dir_.path() + "/layout";
  std::string bundle = dir_.path() + "/bundle";
  std::string archive = dir_.path() + "/saved.tar";
  std::vector<std::string> unpack = {"umoci", "unpack", "--image", layout + ":t", bundle};
  std::vector<std::string> repack = {"umoci", "repack", "--image", layout + ":t", bundle};
  if (::geteuid() != 0) {
    unpack.insert(unpack.begin() + 2, "--rootless");
    repack.insert(repack.begin() + 2, "--rootless");
  }
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"umoci", "init", "--layout", layout}, {"umoci", "new", "--image", layout + ":t"}, unpack}) {
    auto ran = podrt::testing::run_command(argv);
    ASSERT_EQ(ran.exit_code, 0) << argv[1] << ": " << ran.err;
  }
  ASSERT_TRUE(sys::write_file_atomic(bundle + "/rootfs/hello", "hello from skopeo\n"));
  auto repacked = podrt::testing::run_command(repack);
  ASSERT_EQ(repacked.exit_code, 0) << repacked.err;
  auto copied = podrt::testing::run_command(
      {"skopeo", "--insecure-policy", "copy", "oci:" + layout + ":t", "docker-archive:" + archive + ":name:t"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;

  std::string layout_work = dir_.path() + "/layout-work";
  ASSERT_TRUE(sys::make_directories(layout_work));
  auto from_layout = read_oci_layout(layout, "t", layout_work, nullptr);
  ASSERT_TRUE(from_layout) << from_layout.error().message();
  auto image = read(archive);
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->tag, "t");
  EXPECT_NE(image->name.find("name"), std::string::npos) << image->name;
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_EQ(sha256_of_file(image->layers[0].path).value_or(""), image->layers[0].digest);
  // skopeo stores the layer uncompressed: its digest is the diff_id the layout's config names.
  auto config = json::parse(from_layout->config_json, nullptr, false);
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(image->layers[0].digest, config["rootfs"]["diff_ids"][0].get<std::string>());
  // The unpacked layer holds the file added.
  std::string tar = sys::read_file(image->layers[0].path).value_or("");
  EXPECT_NE(tar.find("hello from skopeo"), std::string::npos);
}

}  // namespace
}  // namespace podrt::oci
