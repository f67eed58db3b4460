// Broken and hostile images: each is refused with one line and exit code 254, nothing is
// written outside the store, and the store lists exactly what it listed before.
#include <filesystem>
#include <random>

#include "common/sys/file.h"
#include "tests/e2e/podrt_fixture.h"
#include "tests/support/aci_writer.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;
using Kind = AciEntry::Kind;

struct HostileCase {
  std::string name;
  std::vector<AciEntry> entries;
  std::string expected_message;  ///< a piece of the one-line error
  Compression compression = Compression::None;
};

std::vector<AciEntry> with_skeleton(std::vector<AciEntry> rest,
                                    const std::string& manifest = minimal_manifest()) {
  std::vector<AciEntry> entries = aci_skeleton(manifest);
  entries.insert(entries.end(), rest.begin(), rest.end());
  return entries;
}

class HostileImages : public PodrtTest {
 protected:
  /// Where a successful escape would land: beside the data dir, outside the store.
  std::string outside() const { return scratch() + "/escaped"; }

  void expect_refused(const HostileCase& hostile) {
    SCOPED_TRACE(hostile.name);
    std::string before = podrt_ok({"image", "list", "--no-legend", "--full"});
    std::string aci = scratch() + "/" + hostile.name + ".aci";
    ASSERT_TRUE(write_aci(aci, hostile.entries, hostile.compression));
    CommandResult result = podrt({"--insecure-options=image", "fetch", "--max-image-size=8M", aci});
    EXPECT_EQ(result.exit_code, 254);
    EXPECT_EQ(lines(result.err).size(), 1u) << result.err;
    EXPECT_NE(result.err.find(hostile.expected_message), std::string::npos) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(podrt_ok({"image", "list", "--no-legend", "--full"}), before);
    EXPECT_EQ(temporary_entries(), 0u);
    EXPECT_FALSE(fs::exists(outside()));
    EXPECT_FALSE(fs::exists("/escaped-podrt-test"));
  }
};

TEST_F(HostileImages, AreRefusedAndLeaveTheStoreAsItWas) {
  fetch(image_path("busybox.aci"));  // the store is not empty: it must stay exactly so
  std::string escape_dir = scratch();
  std::vector<HostileCase> cases = {
      {"dotdot", with_skeleton({{.path = "rootfs/../../escaped", .content = "x"}}), "escapes"},
      {"absolute", with_skeleton({{.path = "/escaped-podrt-test", .content = "x"}}), "absolute"},
      {"symlink-write-through",
       with_skeleton({{.path = "rootfs/link", .kind = Kind::Symlink, .link_target = escape_dir},
                      {.path = "rootfs/link/escaped", .content = "x"}}),
       "symlink"},
      {"hardlink-outside",
       with_skeleton({{.path = "rootfs/passwd", .kind = Kind::Hardlink,
                       .link_target = "rootfs/../../../../etc/passwd"}}),
       "escapes"},
      {"char-device", with_skeleton({{.path = "rootfs/null", .kind = Kind::CharDevice}}), "device"},
      {"block-device", with_skeleton({{.path = "rootfs/sda", .kind = Kind::BlockDevice}}), "device"},
      {"bomb", with_skeleton({{.path = "rootfs/zeros", .zero_bytes = 64ULL << 20}}), "limit",
       Compression::Gzip},
      {"no-manifest", {{.path = "rootfs", .kind = Kind::Directory, .mode = 0755}}, "manifest"},
      {"not-json", with_skeleton({}, "this is not json"), "JSON"},
      {"wrong-kind",
       with_skeleton({}, R"({"acKind":"PodManifest","acVersion":"0.8.11","name":"example.com/x"})"),
       "acKind"},
      {"bad-name",
       with_skeleton({}, R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"Bad Name"})"),
       "Bad Name"},
      {"bad-label",
       with_skeleton({}, R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x",)"
                         R"("labels":[{"name":"os","value":"plan9"}]})"),
       "plan9"},
  };
  for (const HostileCase& hostile : cases) expect_refused(hostile);
}

TEST_F(HostileImages, TruncatedAndCorruptArchivesAreRefused) {
  std::string before = podrt_ok({"image", "list", "--no-legend", "--full"});
  std::string good = scratch() + "/good.aci";
  // Random content, so the gzip stream is long and cutting it really truncates it.
  std::mt19937 random(42);
  std::string noise(200000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  ASSERT_TRUE(write_aci(good, with_skeleton({{.path = "rootfs/data", .content = noise}}),
                        Compression::Gzip));
  std::string truncated = scratch() + "/truncated.aci";
  std::string corrupt = scratch() + "/corrupt.aci";
  ASSERT_EQ(run_command({"sh", "-c", "head -c 600 " + good + " > " + truncated}).exit_code, 0);
  ASSERT_EQ(run_command({"sh", "-c", "cp " + good + " " + corrupt +
                                         " && printf 'XXXXXXXXXXXXXXXX' | dd of=" + corrupt +
                                         " bs=1 seek=300 conv=notrunc 2>/dev/null"})
                .exit_code,
            0);
  for (const std::string& aci : {truncated, corrupt}) {
    CommandResult result = podrt({"--insecure-options=image", "fetch", aci});
    EXPECT_EQ(result.exit_code, 254) << aci;
    EXPECT_EQ(lines(result.err).size(), 1u) << result.err;
    EXPECT_EQ(podrt_ok({"image", "list", "--no-legend", "--full"}), before);
    EXPECT_EQ(temporary_entries(), 0u);
  }
}

TEST_F(HostileImages, MissingDependencyIsRefused) {
  std::string manifest =
      R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/layered",)"
      R"("dependencies":[{"imageName":"example.com/base"}]})";
  std::string aci = scratch() + "/layered.aci";
  ASSERT_TRUE(write_aci(aci, with_skeleton({}, manifest)));
  CommandResult result = podrt({"--insecure-options=image", "fetch", aci});
  EXPECT_EQ(result.exit_code, 254);
  EXPECT_NE(result.err.find("example.com/base"), std::string::npos) << result.err;
  EXPECT_EQ(podrt_ok({"image", "list", "--no-legend"}), "");
}

TEST_F(HostileImages, DependenciesRenderDepthFirstWithLaterLayersWinning) {
  std::string base_manifest = minimal_manifest("example.com/base");
  std::string base = scratch() + "/base.aci";
  ASSERT_TRUE(write_aci(base, with_skeleton({{.path = "rootfs/etc", .kind = Kind::Directory, .mode = 0755},
                                             {.path = "rootfs/etc/motd", .content = "base"},
                                             {.path = "rootfs/etc/base-only", .content = "b"},
                                             {.path = "rootfs/lib", .kind = Kind::Symlink, .link_target = "/etc"}},
                                            base_manifest)));
  std::string base_id = fetch(base);
  std::string top_manifest =
      R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/top",)"
      R"("dependencies":[{"imageName":"example.com/base","imageID":")" + base_id + R"("}]})";
  std::string top = scratch() + "/top.aci";
  ASSERT_TRUE(write_aci(top, with_skeleton({{.path = "rootfs/etc", .kind = Kind::Directory, .mode = 0755},
                                            {.path = "rootfs/etc/motd", .content = "top"},
                                            {.path = "rootfs/lib", .kind = Kind::Directory, .mode = 0755},
                                            {.path = "rootfs/lib/libc", .content = "c"}},
                                           top_manifest)));
  fetch(top);
  std::string rendered = scratch() + "/rendered";
  podrt_ok({"image", "render", "--rootfs-only", "example.com/top", rendered});
  EXPECT_EQ(*sys::read_file(rendered + "/etc/motd"), "top");
  EXPECT_EQ(*sys::read_file(rendered + "/etc/base-only"), "b");
  // The base's symlink /lib -> /etc was replaced by top's directory, not followed.
  EXPECT_FALSE(fs::is_symlink(rendered + "/lib"));
  EXPECT_TRUE(fs::exists(rendered + "/lib/libc"));
  EXPECT_FALSE(fs::exists(rendered + "/etc/libc"));
  // The extract of top alone has only its own layer.
  std::string extracted = scratch() + "/extracted";
  podrt_ok({"image", "extract", "--rootfs-only", "example.com/top", extracted});
  EXPECT_FALSE(fs::exists(extracted + "/etc/base-only"));
}

}  // namespace
}  // namespace podrt::testing
