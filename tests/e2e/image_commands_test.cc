// podrt fetch and podrt image ... on the busybox image built with actool.
#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "common/sha512.h"
#include "common/sys/file.h"
#include "tests/e2e/podrt_fixture.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;

class ImageCommands : public PodrtTest {};

TEST_F(ImageCommands, FetchPrintsTheSha512OfTheUncompressedImage) {
  std::string id = fetch(image_path("busybox.aci"));
  ASSERT_TRUE(std::regex_match(id, std::regex("sha512-[0-9a-f]{128}"))) << id;
  // actool gzips the ACI; the id must hash the tar inside, as the appc spec says.
  CommandResult tar = run_command({"sh", "-c", "zcat -f " + image_path("busybox.aci") + " | sha512sum"});
  ASSERT_EQ(tar.exit_code, 0);
  EXPECT_EQ(id, "sha512-" + tar.out.substr(0, 128));
  // Fetching again finds it in the store: same id, still one image.
  EXPECT_EQ(fetch(image_path("busybox.aci")), id);
  EXPECT_EQ(lines(podrt_ok({"image", "list", "--no-legend"})).size(), 1u);
}

TEST_F(ImageCommands, ListShowsNameLabelsAndSize) {
  std::string id = fetch(image_path("busybox.aci"));
  nlohmann::json images = nlohmann::json::parse(podrt_ok({"image", "list", "--format=json"}));
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0]["id"], id);
  EXPECT_EQ(images[0]["name"], "example.com/busybox");
  EXPECT_EQ(images[0]["labels"]["arch"], "amd64");
  EXPECT_GT(images[0]["size"].get<uint64_t>(), 1000000u);  // busybox itself is ~2 MB

  std::vector<std::string> table = lines(podrt_ok({"image", "list"}));
  ASSERT_EQ(table.size(), 2u);
  EXPECT_NE(table[0].find("NAME"), std::string::npos);
  EXPECT_NE(table[1].find("example.com/busybox"), std::string::npos);
  EXPECT_NE(table[1].find(id.substr(0, 20)), std::string::npos);
}

TEST_F(ImageCommands, RenderIsCachedAtFetchTime) {
  std::string id = fetch(image_path("busybox.aci"));
  struct stat st;
  ASSERT_EQ(::stat((data_dir() + "/cas/tree/" + id + "/rootfs/bin/busybox").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
}

TEST_F(ImageCommands, CatManifestByNameAndByShortId) {
  std::string id = fetch(image_path("busybox.aci"));
  for (const std::string& reference : {std::string("example.com/busybox"), id.substr(0, 20),
                                       std::string("example.com/busybox:1.35")}) {
    nlohmann::json manifest =
        nlohmann::json::parse(podrt_ok({"image", "cat-manifest", reference}));
    EXPECT_EQ(manifest["name"], "example.com/busybox") << reference;
    EXPECT_EQ(manifest["acKind"], "ImageManifest");
  }
}

TEST_F(ImageCommands, ExtractRenderAndExportRoundTrip) {
  std::string id = fetch(image_path("busybox.aci"));
  std::string extracted = scratch() + "/extracted";
  podrt_ok({"image", "extract", id, extracted});
  EXPECT_TRUE(fs::exists(extracted + "/manifest"));
  EXPECT_TRUE(fs::is_regular_file(extracted + "/rootfs/bin/busybox"));
  EXPECT_TRUE(fs::is_symlink(extracted + "/rootfs/bin/sh"));

  std::string rendered = scratch() + "/rendered";
  podrt_ok({"image", "render", "--rootfs-only", "example.com/busybox", rendered});
  EXPECT_TRUE(fs::is_regular_file(rendered + "/bin/busybox"));
  EXPECT_FALSE(fs::exists(rendered + "/manifest"));
  // Writing into the rendered copy must not touch the store's render.
  ASSERT_TRUE(sys::write_file_atomic(rendered + "/bin/busybox", "changed"));
  auto stored = sys::read_file(data_dir() + "/cas/tree/" + id + "/rootfs/bin/busybox");
  ASSERT_TRUE(stored);
  EXPECT_GT(stored->size(), 1000000u);

  // A second extract into the same place needs --overwrite.
  CommandResult again = podrt({"image", "extract", id, extracted});
  EXPECT_EQ(again.exit_code, 254);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos);

  std::string exported = scratch() + "/exported.aci";
  podrt_ok({"image", "export", id, exported});
  auto hash = sha512_file_hex(exported);
  ASSERT_TRUE(hash);
  EXPECT_EQ("sha512-" + *hash, id);  // the export is the uncompressed ACI itself
}

TEST_F(ImageCommands, RmRemovesImageBlobAndRender) {
  std::string id = fetch(image_path("busybox.aci"));
  EXPECT_NE(podrt_ok({"image", "rm", "example.com/busybox"}).find(id), std::string::npos);
  EXPECT_EQ(podrt_ok({"image", "list", "--no-legend"}), "");
  EXPECT_FALSE(fs::exists(data_dir() + "/cas/blob/" + id));
  EXPECT_FALSE(fs::exists(data_dir() + "/cas/tree/" + id));
}

TEST_F(ImageCommands, GcRemovesImagesByLastUseButKeepsThoseInUse) {
  std::string busybox = fetch(image_path("busybox.aci"));
  std::string probe = fetch(image_path("probe.aci"));
  // A recent image survives the default grace period.
  podrt_ok({"image", "gc"});
  EXPECT_EQ(lines(podrt_ok({"image", "list", "--no-legend"})).size(), 2u);
  // A pod keeps its image even with no grace at all.
  podrt_ok({"prepare", "example.com/probe"});
  std::string out = podrt_ok({"image", "gc", "--grace-period=0"});
  EXPECT_NE(out.find(busybox), std::string::npos);
  std::vector<std::string> left = lines(podrt_ok({"image", "list", "--no-legend", "--full"}));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].find(probe), std::string::npos);
}

TEST_F(ImageCommands, ImageRmRefusesAnImageAPodUses) {
  fetch(image_path("busybox.aci"));
  podrt_ok({"prepare", "example.com/busybox"});
  CommandResult rm = podrt({"image", "rm", "example.com/busybox"});
  EXPECT_EQ(rm.exit_code, 254);
  EXPECT_NE(rm.err.find("used by a pod"), std::string::npos) << rm.err;
  EXPECT_EQ(lines(podrt_ok({"image", "list", "--no-legend"})).size(), 1u);
}

TEST_F(ImageCommands, UnknownImageIsOneLineError) {
  const std::string missing_dir = scratch() + "/x";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"image", "cat-manifest", "example.com/nope"}, "example.com/nope"},
      {{"image", "rm", "sha512-0123"}, "sha512-0123"},
      {{"image", "extract", "nope", missing_dir}, "nope"},
      {{"prepare", "example.com/nope"}, "example.com/nope"}};
  for (const auto& [args, reference] : cases) {
    CommandResult result = podrt(args);
    EXPECT_EQ(result.exit_code, 254) << args[1];
    EXPECT_EQ(lines(result.err).size(), 1u) << result.err;
    EXPECT_NE(result.err.find(reference), std::string::npos) << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(missing_dir));
}

TEST_F(ImageCommands, AnUnknownInsecureOptionIsRefused) {
  CommandResult bad = podrt({"--insecure-options=bogus", "fetch", image_path("busybox.aci")});
  EXPECT_EQ(bad.exit_code, 254);
  EXPECT_NE(bad.err.find("unknown insecure option"), std::string::npos);
}

}  // namespace
}  // namespace podrt::testing
