// oci-layout: reading layouts written here byte by byte (good and hostile) and one umoci wrote.
#include "stage0/oci/oci_layout_source.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "common/sys/file.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/oci_manifest.h"
#include "tests/support/command_runner.h"
#include "tests/unit/stage0/image/aci_test_archives.h"
#include "tests/unit/stage0/oci/sha256_of.h"
#include "tests/support/directory_entries.h"

namespace podrt::oci {
namespace {

using ::podrt::testing::directory_entries;

using ::podrt::oci::testing::sha256_of;

using nlohmann::json;
using podrt::testing::TempDir;

std::string hex_of(const std::string& digest) { return digest.substr(7); }

/// Builds an OCI layout in a temporary directory.
class LayoutBuilder {
 public:
  LayoutBuilder() {
    EXPECT_TRUE(sys::make_directories(dir() + "/blobs/sha256"));
    EXPECT_TRUE(sys::write_file_atomic(dir() + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  }
  std::string dir() const { return root_.path() + "/layout"; }

  /// Stores a blob and returns its descriptor.
  json blob(std::string_view type, const std::string& content) {
    std::string digest = sha256_of(content);
    EXPECT_TRUE(sys::write_file_atomic(blob_path(digest), content));
    return {{"mediaType", type}, {"digest", digest}, {"size", content.size()}};
  }
  std::string blob_path(const std::string& digest) const { return dir() + "/blobs/sha256/" + hex_of(digest); }

  /// A whole image (layers, config, manifest); returns the manifest's descriptor.
  json image(const std::vector<std::string>& layer_contents, int diff_id_count = -1) {
    json layers = json::array();
    json diff_ids = json::array();
    for (const std::string& content : layer_contents) {
      layers.push_back(blob("application/vnd.oci.image.layer.v1.tar", content));
      diff_ids.push_back(sha256_of(content));
    }
    while (diff_id_count >= 0 && static_cast<int>(diff_ids.size()) > diff_id_count) diff_ids.erase(diff_ids.size() - 1);
    while (diff_id_count >= 0 && static_cast<int>(diff_ids.size()) < diff_id_count) diff_ids.push_back(sha256_of("x"));
    json config = {{"architecture", "amd64"}, {"os", "linux"},
                   {"config", {{"Cmd", json::array({"/bin/sh"})}}},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    json manifest = {{"schemaVersion", 2}, {"mediaType", media_type::kOciManifest},
                     {"config", blob(media_type::kOciConfig, config.dump())}, {"layers", layers}};
    return blob(media_type::kOciManifest, manifest.dump());
  }

  void index(const json& entries) {
    json document = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}, {"manifests", entries}};
    EXPECT_TRUE(sys::write_file_atomic(dir() + "/index.json", document.dump()));
  }

  static json tagged(json descriptor, const std::string& tag) {
    descriptor["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
    return descriptor;
  }

 private:
  TempDir root_;
};

class OciLayoutSourceTest : public ::testing::Test {
 protected:
  OciLayoutSourceTest() { EXPECT_TRUE(sys::make_directories(work_dir())); }
  std::string work_dir() const { return work_.path() + "/work"; }

  Result<FetchedImage> read(const std::string& tag, const LayerLookup& have_layer = nullptr) {
    return read_oci_layout(layout_.dir(), tag, work_dir(), have_layer);
  }
  void clear_work_dir() {
    ASSERT_TRUE(sys::remove_tree(work_dir()));
    ASSERT_TRUE(sys::make_directories(work_dir()));
  }
  std::string error_of(const std::string& tag) {
    auto result = read(tag);
    if (result) return "(read)";
    EXPECT_EQ(result.error().message().find('\n'), std::string::npos);
    EXPECT_TRUE(directory_entries(work_dir()).empty()) << "a failed read left files behind";
    return result.error().message();
  }

  LayoutBuilder layout_;
  TempDir work_;
  const std::string layer_a_ = image::testing::make_tar({image::testing::file_entry("a", "hello a")});
  const std::string layer_b_ = image::testing::make_tar({image::testing::file_entry("b", "hello b")});
};

TEST_F(OciLayoutSourceTest, ReadsTheOnlyImage) {
  json manifest = layout_.image({layer_a_, layer_b_});
  layout_.index(json::array({manifest}));
  auto image = read("");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->source, "oci-layout:" + layout_.dir());
  EXPECT_EQ(image->name, "layout");
  EXPECT_EQ(image->tag, "");
  EXPECT_EQ(image->manifest_digest, manifest["digest"]);
  EXPECT_EQ(image->config_digest, sha256_of(image->config_json));
  EXPECT_NE(image->config_json.find("diff_ids"), std::string::npos);
  ASSERT_EQ(image->layers.size(), 2u);
  EXPECT_EQ(image->layers[0].digest, sha256_of(layer_a_));
  EXPECT_EQ(image->layers[0].size, layer_a_.size());
  EXPECT_EQ(image->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(image->layers[0].path, work_dir() + "/" + digest_file_name(sha256_of(layer_a_)));
  EXPECT_EQ(sys::read_file(image->layers[0].path).value_or(""), layer_a_);
  EXPECT_EQ(sys::read_file(image->layers[1].path).value_or(""), layer_b_);
}

TEST_F(OciLayoutSourceTest, ChoosesByTag) {
  json first = layout_.image({layer_a_});
  json second = layout_.image({layer_b_});
  layout_.index(json::array({LayoutBuilder::tagged(first, "one"), LayoutBuilder::tagged(second, "two")}));
  auto image = read("two");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->source, "oci-layout:" + layout_.dir() + ":two");
  EXPECT_EQ(image->name, "layout");
  EXPECT_EQ(image->tag, "two");
  EXPECT_EQ(image->manifest_digest, second["digest"]);
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_EQ(image->layers[0].digest, sha256_of(layer_b_));

  clear_work_dir();  // the good read's copies: error_of checks failures leave none
  std::string missing = error_of("three");
  EXPECT_NE(missing.find("no image tagged \"three\""), std::string::npos) << missing;
  EXPECT_NE(missing.find("one, two"), std::string::npos) << missing;
  std::string ambiguous = error_of("");
  EXPECT_NE(ambiguous.find("holds 2 images"), std::string::npos) << ambiguous;
}

TEST_F(OciLayoutSourceTest, AFullReferenceRefNameGivesNameAndTag) {
  layout_.index(json::array({LayoutBuilder::tagged(layout_.image({layer_a_}), "example.com:5000/team/app:1.2")}));
  auto image = read("");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->name, "example.com:5000/team/app");
  EXPECT_EQ(image->tag, "1.2");
}

TEST_F(OciLayoutSourceTest, SkipsLayersTheStoreHas) {
  layout_.index(json::array({layout_.image({layer_a_, layer_b_})}));
  std::string known = sha256_of(layer_a_);
  auto image = read("", [&](const std::string& digest) { return digest == known; });
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->layers[0].path, "");
  EXPECT_EQ(image->layers[0].digest, known);
  EXPECT_NE(image->layers[1].path, "");
  EXPECT_EQ(directory_entries(work_dir()), std::set<std::string>{digest_file_name(sha256_of(layer_b_))});
}

TEST_F(OciLayoutSourceTest, ARepeatedLayerIsCopiedOnce) {
  layout_.index(json::array({layout_.image({layer_a_, layer_a_})}));
  auto image = read("");
  ASSERT_TRUE(image) << image.error().message();
  ASSERT_EQ(image->layers.size(), 2u);
  EXPECT_EQ(image->layers[0].path, image->layers[1].path);
  EXPECT_EQ(sys::read_file(image->layers[1].path).value_or(""), layer_a_);
}

TEST_F(OciLayoutSourceTest, FollowsANestedIndexToAmd64) {
  json amd64 = layout_.image({layer_a_});
  json arm64 = layout_.image({layer_b_});
  amd64["platform"] = {{"os", "linux"}, {"architecture", "amd64"}};
  arm64["platform"] = {{"os", "linux"}, {"architecture", "arm64"}};
  json nested = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}, {"manifests", json::array({arm64, amd64})}};
  layout_.index(json::array({LayoutBuilder::tagged(layout_.blob(media_type::kOciIndex, nested.dump()), "multi")}));
  auto image = read("multi");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->manifest_digest, amd64["digest"]);
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_EQ(image->layers[0].digest, sha256_of(layer_a_));
}

TEST_F(OciLayoutSourceTest, ANestedIndexWithoutAmd64IsRefused) {
  json arm64 = layout_.image({layer_b_});
  arm64["platform"] = {{"os", "linux"}, {"architecture", "arm64"}};
  json nested = {{"schemaVersion", 2}, {"manifests", json::array({arm64})}};
  layout_.index(json::array({layout_.blob(media_type::kOciIndex, nested.dump())}));
  std::string message = error_of("");
  EXPECT_NE(message.find("linux/amd64"), std::string::npos) << message;
  EXPECT_NE(message.find("linux/arm64"), std::string::npos) << message;
}

TEST_F(OciLayoutSourceTest, RefusesALayerWhoseBytesDoNotMatchItsDigest) {
  layout_.index(json::array({layout_.image({layer_a_})}));
  std::string tampered = layer_a_;
  tampered[600] ^= 1;  // same size, other bytes
  ASSERT_TRUE(sys::write_file_atomic(layout_.blob_path(sha256_of(layer_a_)), tampered));
  std::string message = error_of("");
  EXPECT_NE(message.find("digest mismatch: expected " + sha256_of(layer_a_) + ", got " + sha256_of(tampered)),
            std::string::npos)
      << message;
}

TEST_F(OciLayoutSourceTest, RefusesAManifestWhoseBytesDoNotMatchItsDigest) {
  json manifest = layout_.image({layer_a_});
  layout_.index(json::array({manifest}));
  std::string path = layout_.blob_path(manifest["digest"]);
  std::string content = sys::read_file(path).value_or("");
  content[content.size() - 2] = ' ';
  ASSERT_TRUE(sys::write_file_atomic(path, content));
  EXPECT_NE(error_of("").find("digest mismatch"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesABlobWhoseSizeDoesNotMatch) {
  json manifest = layout_.image({layer_a_});
  manifest["size"] = manifest["size"].get<uint64_t>() + 1;
  layout_.index(json::array({manifest}));
  EXPECT_NE(error_of("").find("size mismatch"), std::string::npos);

  layout_.index(json::array({layout_.image({layer_a_})}));
  ASSERT_TRUE(sys::write_file_atomic(layout_.blob_path(sha256_of(layer_a_)), layer_a_ + "more"));
  EXPECT_NE(error_of("").find("size mismatch"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesASymlinkedBlob) {
  layout_.index(json::array({layout_.image({layer_a_})}));
  std::string blob = layout_.blob_path(sha256_of(layer_a_));
  std::string outside = work_.path() + "/outside";
  ASSERT_TRUE(sys::write_file_atomic(outside, layer_a_));
  ASSERT_EQ(::unlink(blob.c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), blob.c_str()), 0);
  EXPECT_NE(error_of("").find("symlink"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesASymlinkedBlobDirectory) {
  json manifest = layout_.image({layer_a_});
  layout_.index(json::array({manifest}));
  std::string elsewhere = work_.path() + "/elsewhere";
  ASSERT_EQ(::rename((layout_.dir() + "/blobs/sha256").c_str(), elsewhere.c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (layout_.dir() + "/blobs/sha256").c_str()), 0);
  EXPECT_NE(error_of("").find("symlink"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesABlobThatIsNotARegularFile) {
  layout_.index(json::array({layout_.image({layer_a_})}));
  std::string blob = layout_.blob_path(sha256_of(layer_a_));
  ASSERT_EQ(::unlink(blob.c_str()), 0);
  ASSERT_EQ(::mkfifo(blob.c_str(), 0600), 0);  // would hang a plain open
  EXPECT_NE(error_of("").find("not a regular file"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesBadDigestsInTheIndex) {
  for (const std::string& bad : {std::string("sha256:../../../../etc/passwd"), std::string("sha256:../.."),
                                 "sha256:" + std::string(64, 'A'), "sha512:" + std::string(128, 'a')}) {
    layout_.index(json::array({{{"mediaType", media_type::kOciManifest}, {"digest", bad}, {"size", 10}}}));
    EXPECT_NE(error_of(""), "(read)") << bad;
  }
}

TEST_F(OciLayoutSourceTest, RefusesDiffIdCountMismatch) {
  layout_.index(json::array({layout_.image({layer_a_, layer_b_}, 1)}));
  std::string message = error_of("");
  EXPECT_NE(message.find("1 diff_ids but the manifest has 2 layers"), std::string::npos) << message;
}

TEST_F(OciLayoutSourceTest, RefusesSchema1) {
  json schema1 = {{"schemaVersion", 1}, {"name", "x"}, {"fsLayers", json::array()}};
  layout_.index(json::array({layout_.blob("application/vnd.docker.distribution.manifest.v1+json", schema1.dump())}));
  EXPECT_NE(error_of("").find("Docker schema 1 manifests are not supported"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesAnOversizedManifest) {
  std::string big(kMaxLayoutDocumentBytes + 1, ' ');
  layout_.index(json::array({layout_.blob(media_type::kOciManifest, big)}));
  EXPECT_NE(error_of("").find("larger than the limit"), std::string::npos);
}

TEST_F(OciLayoutSourceTest, RefusesWhatIsNotALayout) {
  layout_.index(json::array({layout_.image({layer_a_})}));
  ASSERT_TRUE(sys::write_file_atomic(layout_.dir() + "/oci-layout", R"({"imageLayoutVersion":"2.0.0"})"));
  EXPECT_NE(error_of("").find("imageLayoutVersion"), std::string::npos);
  ASSERT_EQ(::unlink((layout_.dir() + "/oci-layout").c_str()), 0);
  EXPECT_NE(error_of("").find("not an OCI image layout"), std::string::npos);
  EXPECT_FALSE(read_oci_layout(work_.path() + "/nowhere", "", work_dir(), nullptr));
}

// A real layout: umoci writes it (gzip layers, its own JSON), podrt reads it.
TEST_F(OciLayoutSourceTest, ReadsALayoutUmociWrote) {
  if (podrt::testing::run_command({"umoci", "--version"}).exit_code != 0) GTEST_SKIP() << "umoci is not installed";
  TempDir scratch;
  std::string dir = scratch.path() + "/image";
  std::string bundle = scratch.path() + "/bundle";
  std::vector<std::string> unpack = {"umoci", "unpack", "--image", dir + ":t", bundle};
  std::vector<std::string> repack = {"umoci", "repack", "--image", dir + ":t", bundle};
  if (::geteuid() != 0) {
    unpack.insert(unpack.begin() + 2, "--rootless");
    repack.insert(repack.begin() + 2, "--rootless");
  }
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"umoci", "init", "--layout", dir}, {"umoci", "new", "--image", dir + ":t"}, unpack}) {
    auto ran = podrt::testing::run_command(argv);
    ASSERT_EQ(ran.exit_code, 0) << argv[1] << ": " << ran.err;
  }
  ASSERT_TRUE(sys::write_file_atomic(bundle + "/rootfs/hello", "hello from umoci\n"));
  auto repacked = podrt::testing::run_command(repack);
  ASSERT_EQ(repacked.exit_code, 0) << repacked.err;

  auto image = read_oci_layout(dir, "t", work_dir(), nullptr);
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->name, "image");
  EXPECT_EQ(image->tag, "t");
  ASSERT_EQ(image->layers.size(), 1u);
  EXPECT_TRUE(is_layer_media_type(image->layers[0].media_type)) << image->layers[0].media_type;
  EXPECT_EQ(sha256_of_file(image->layers[0].path).value_or(""), image->layers[0].digest);
  EXPECT_EQ(image->config_digest, sha256_of(image->config_json));
}

}  // namespace
}  // namespace podrt::oci
