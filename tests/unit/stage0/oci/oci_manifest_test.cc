// Manifest and index parsing: the shapes registries and layouts serve, and the ones podrt refuses.
#include "stage0/oci/oci_manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

namespace podrt::oci {
namespace {

using nlohmann::json;

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
const std::string kDigestC = "sha256:" + std::string(64, 'c');

json descriptor(std::string_view type, const std::string& digest, uint64_t size) {
  return {{"mediaType", type}, {"digest", digest}, {"size", size}};
}

json oci_manifest() {
  return {{"schemaVersion", 2},
          {"mediaType", media_type::kOciManifest},
          {"config", descriptor(media_type::kOciConfig, kDigestA, 10)},
          {"layers", json::array({descriptor("application/vnd.oci.image.layer.v1.tar+gzip", kDigestB, 20),
                                  descriptor("application/vnd.oci.image.layer.v1.tar", kDigestC, 30)})}};
}

json platform_entry(const std::string& digest, const std::string& os, const std::string& arch,
                    const std::string& variant = "") {
  json entry = descriptor(media_type::kOciManifest, digest, 5);
  entry["platform"] = {{"os", os}, {"architecture", arch}};
  if (!variant.empty()) entry["platform"]["variant"] = variant;
  return entry;
}

std::string error_of(const Result<ImageManifest>& result) {
  return result ? std::string("(parsed)") : result.error().message();
}

TEST(OciManifestTest, ParsesAnOciManifest) {
  auto manifest = parse_manifest(oci_manifest().dump(), "");
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->media_type, media_type::kOciManifest);
  EXPECT_EQ(manifest->config.digest, kDigestA);
  EXPECT_EQ(manifest->config.size, 10u);
  ASSERT_EQ(manifest->layers.size(), 2u);
  EXPECT_EQ(manifest->layers[0].digest, kDigestB);
  EXPECT_EQ(manifest->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(manifest->layers[1].size, 30u);
}

TEST(OciManifestTest, MediaTypeMayComeFromTheContentTypeOrBeAbsent) {
  json document = oci_manifest();
  document.erase("mediaType");
  auto untyped = parse_manifest(document.dump(), "");
  ASSERT_TRUE(untyped) << untyped.error().message();
  EXPECT_EQ(untyped->media_type, media_type::kOciManifest);
  document["config"]["mediaType"] = media_type::kDockerConfig;
  auto served = parse_manifest(document.dump(), std::string(media_type::kDockerManifest) + "; charset=utf-8");
  ASSERT_TRUE(served) << served.error().message();
  EXPECT_EQ(served->media_type, media_type::kDockerManifest);
}

TEST(OciManifestTest, ParsesADockerSchema2Manifest) {
  json document = {{"schemaVersion", 2},
                   {"mediaType", media_type::kDockerManifest},
                   {"config", descriptor(media_type::kDockerConfig, kDigestA, 1)},
                   {"layers", json::array({descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", kDigestB, 2)})}};
  auto manifest = parse_manifest(document.dump(), media_type::kDockerManifest);
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->media_type, media_type::kDockerManifest);
  EXPECT_EQ(manifest->layers.size(), 1u);
}

TEST(OciManifestTest, RefusesSchema1) {
  json schema1 = {{"schemaVersion", 1}, {"name", "busybox"}, {"tag", "1"}, {"fsLayers", json::array()}};
  EXPECT_EQ(error_of(parse_manifest(schema1.dump(), "")), "Docker schema 1 manifests are not supported");
  EXPECT_EQ(error_of(parse_manifest(schema1.dump(), "application/vnd.docker.distribution.manifest.v1+prettyjws")),
            "Docker schema 1 manifests are not supported");
  EXPECT_EQ(error_of(parse_manifest("{}", "application/vnd.docker.distribution.manifest.v1+json")),
            "Docker schema 1 manifests are not supported");
}

TEST(OciManifestTest, RefusesUnknownAndForeignLayerTypes) {
  json unknown = oci_manifest();
  unknown["layers"][1]["mediaType"] = "application/vnd.example.squashfs";
  std::string message = error_of(parse_manifest(unknown.dump(), ""));
  EXPECT_NE(message.find("layer 2"), std::string::npos) << message;
  EXPECT_NE(message.find("application/vnd.example.squashfs"), std::string::npos) << message;

  json foreign = oci_manifest();
  foreign["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
  message = error_of(parse_manifest(foreign.dump(), ""));
  EXPECT_NE(message.find("foreign"), std::string::npos) << message;
  EXPECT_NE(message.find("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), std::string::npos);

  foreign["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
  EXPECT_FALSE(parse_manifest(foreign.dump(), ""));
}

TEST(OciManifestTest, RefusesBadDigestsAndSizes) {
  for (const std::string& bad : {std::string("sha256:../.."), "sha512:" + std::string(128, 'a'),
                                 "sha256:" + std::string(64, 'A')}) {
    json document = oci_manifest();
    document["layers"][0]["digest"] = bad;
    EXPECT_FALSE(parse_manifest(document.dump(), "")) << bad;
    document = oci_manifest();
    document["config"]["digest"] = bad;
    EXPECT_FALSE(parse_manifest(document.dump(), "")) << bad;
  }
  for (const json& bad_size : {json(-1), json(1.5), json("10"), json(nullptr)}) {
    json document = oci_manifest();
    document["layers"][0]["size"] = bad_size;
    EXPECT_FALSE(parse_manifest(document.dump(), "")) << bad_size.dump();
  }
}

TEST(OciManifestTest, RefusesMalformedDocuments) {
  EXPECT_FALSE(parse_manifest("not json", ""));
  EXPECT_FALSE(parse_manifest("[]", ""));
  EXPECT_FALSE(parse_manifest("", ""));
  json document = oci_manifest();
  document["layers"] = json::array();
  EXPECT_NE(error_of(parse_manifest(document.dump(), "")).find("no layers"), std::string::npos);
  document = oci_manifest();
  document["layers"] = "x";
  EXPECT_FALSE(parse_manifest(document.dump(), ""));
  document = oci_manifest();
  document.erase("config");
  EXPECT_FALSE(parse_manifest(document.dump(), ""));
  document = oci_manifest();
  document["schemaVersion"] = 3;
  EXPECT_FALSE(parse_manifest(document.dump(), ""));
  document = oci_manifest();
  document["schemaVersion"] = "2";
  EXPECT_FALSE(parse_manifest(document.dump(), ""));
  document = oci_manifest();
  document["mediaType"] = 7;
  EXPECT_FALSE(parse_manifest(document.dump(), ""));
  document = oci_manifest();
  document["layers"][0]["annotations"] = {{"a", 1}};
  EXPECT_FALSE(parse_manifest(document.dump(), ""));
}

TEST(OciManifestTest, RefusesAnIndexAndArtifacts) {
  json index = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}, {"manifests", json::array()}};
  EXPECT_NE(error_of(parse_manifest(index.dump(), "")).find("index"), std::string::npos);
  json artifact = oci_manifest();
  artifact["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json";
  EXPECT_NE(error_of(parse_manifest(artifact.dump(), "")).find("not a container image config"),
            std::string::npos);
}

TEST(OciIndexTest, ParsesPlatformsAndAnnotations) {
  json entry = platform_entry(kDigestA, "linux", "arm", "v7");
  entry["annotations"] = {{"org.opencontainers.image.ref.name", "1.0"}};
  json document = {{"schemaVersion", 2}, {"manifests", json::array({entry, platform_entry(kDigestB, "linux", "amd64")})}};
  auto index = parse_index(document.dump(), "");
  ASSERT_TRUE(index) << index.error().message();
  EXPECT_EQ(index->media_type, media_type::kOciIndex);
  ASSERT_EQ(index->manifests.size(), 2u);
  EXPECT_EQ(index->manifests[0].variant, "v7");
  EXPECT_EQ(index->manifests[0].annotations.at("org.opencontainers.image.ref.name"), "1.0");
  EXPECT_EQ(index->manifests[1].architecture, "amd64");

  auto docker = parse_index(document.dump(), media_type::kDockerManifestList);
  ASSERT_TRUE(docker) << docker.error().message();
  EXPECT_EQ(docker->media_type, media_type::kDockerManifestList);
}

TEST(OciIndexTest, RefusesBadEntries) {
  json bad_digest = {{"schemaVersion", 2},
                     {"manifests", json::array({descriptor(media_type::kOciManifest, "sha256:../..", 1)})}};
  EXPECT_FALSE(parse_index(bad_digest.dump(), ""));
  json no_list = {{"schemaVersion", 2}};
  EXPECT_FALSE(parse_index(no_list.dump(), ""));
  json manifest_type = {{"schemaVersion", 2}, {"mediaType", media_type::kOciManifest}, {"manifests", json::array()}};
  EXPECT_FALSE(parse_index(manifest_type.dump(), ""));
  json bad_platform = {{"schemaVersion", 2}, {"manifests", json::array({platform_entry(kDigestA, "linux", "amd64")})}};
  bad_platform["manifests"][0]["platform"] = "linux/amd64";
  EXPECT_FALSE(parse_index(bad_platform.dump(), ""));
}

TEST(OciIndexTest, ChoosesThePlatform) {
  ImageIndex index = *parse_index(json({{"schemaVersion", 2},
                                        {"manifests", json::array({platform_entry(kDigestA, "linux", "arm64", "v8"),
                                                                   platform_entry(kDigestB, "linux", "amd64"),
                                                                   platform_entry(kDigestC, "windows", "amd64")})}})
                                      .dump(),
                                  "");
  auto chosen = choose_platform(index, "linux", "amd64");
  ASSERT_TRUE(chosen) << chosen.error().message();
  EXPECT_EQ(chosen->digest, kDigestB);
  auto missing = choose_platform(index, "linux", "s390x");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("linux/s390x"), std::string::npos);
  EXPECT_NE(missing.error().message().find("linux/arm64/v8"), std::string::npos) << missing.error().message();
  EXPECT_NE(missing.error().message().find("windows/amd64"), std::string::npos);
  EXPECT_FALSE(choose_platform(ImageIndex{}, "linux", "amd64"));
}

TEST(OciIndexTest, TellsIndexesFromManifests) {
  std::string index = json({{"schemaVersion", 2}, {"manifests", json::array()}}).dump();
  EXPECT_TRUE(document_is_index(index, "").value_or(false));
  EXPECT_TRUE(document_is_index(index, media_type::kDockerManifestList).value_or(false));
  EXPECT_FALSE(document_is_index(oci_manifest().dump(), "").value_or(true));
  json untyped = oci_manifest();
  untyped.erase("mediaType");
  EXPECT_FALSE(document_is_index(untyped.dump(), "").value_or(true));
  EXPECT_FALSE(document_is_index(untyped.dump(), media_type::kOciManifest).value_or(true));
  EXPECT_FALSE(document_is_index("nope", ""));
}

TEST(OciMediaTypeTest, KnowsWhatItCanRead) {
  std::string accepted = accepted_manifest_types();
  for (std::string_view type : {media_type::kOciManifest, media_type::kOciIndex, media_type::kDockerManifest,
                                media_type::kDockerManifestList})
    EXPECT_NE(accepted.find(type), std::string::npos) << type;
  EXPECT_TRUE(is_layer_media_type("application/vnd.oci.image.layer.v1.tar"));
  EXPECT_TRUE(is_layer_media_type("application/vnd.oci.image.layer.v1.tar+zstd"));
  EXPECT_TRUE(is_layer_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"));
  EXPECT_FALSE(is_layer_media_type("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"));
  EXPECT_FALSE(is_layer_media_type("application/vnd.oci.image.layer.nondistributable.v1.tar"));
  EXPECT_FALSE(is_layer_media_type(""));
  EXPECT_TRUE(is_index_media_type(media_type::kOciIndex));
  EXPECT_TRUE(is_index_media_type(media_type::kDockerManifestList));
  EXPECT_FALSE(is_index_media_type(media_type::kOciManifest));
}

}  // namespace
}  // namespace podrt::oci
