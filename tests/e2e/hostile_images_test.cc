// Broken and hostile images: each is refused with one line and exit code 254, nothing is
// written outside the store, and the store lists exactly what it listed before.
#include <filesystem>
#include <random>

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
      {"dotdot", aci_with({{.path = "rootfs/../../escaped", .content = "x"}}), "escapes"},
      {"absolute", aci_with({{.path = "/escaped-podrt-test", .content = "x"}}), "absolute"},
      {"symlink-write-through",
       aci_with({{.path = "rootfs/link", .kind = Kind::Symlink, .link_target = escape_dir},
                      {.path = "rootfs/link/escaped", .content = "x"}}),
       "symlink"},
      {"hardlink-outside",
       aci_with({{.path = "rootfs/passwd", .kind = Kind::Hardlink,
                       .link_target = "rootfs/../../../../etc/passwd"}}),
       "escapes"},
      {"char-device", aci_with({{.path = "rootfs/null", .kind = Kind::CharDevice}}), "device"},
      {"block-device", aci_with({{.path = "rootfs/sda", .kind = Kind::BlockDevice}}), "device"},
      {"bomb", aci_with({{.path = "rootfs/zeros", .zero_bytes = 64ULL << 20}}), "limit",
       Compression::Gzip},
      {"no-manifest", {{.path = "rootfs", .kind = Kind::Directory, .mode = 0755}}, "manifest"},
      {"not-json", aci_with({}, "this is not json"), "JSON"},
      {"wrong-kind",
       aci_with({}, R"({"acKind":"PodManifest","acVersion":"0.8.11","name":"example.com/x"})"),
       "acKind"},
      {"bad-name",
       aci_with({}, R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"Bad Name"})"),
       "Bad Name"},
      {"bad-label",
       aci_with({}, R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x",)"
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
  ASSERT_TRUE(write_aci(good, aci_with({{.path = "rootfs/data", .content = noise}}),
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
  ASSERT_TRUE(write_aci(aci, aci_with({}, manifest)));
  CommandResult result = podrt({"--insecure-options=image", "fetch", aci});
  EXPECT_EQ(result.exit_code, 254);
  EXPECT_NE(result.err.find("example.com/base"), std::string::npos) << result.err;
  EXPECT_EQ(podrt_ok({"image", "list", "--no-legend"}), "");
}

}  // namespace
}  // namespace podrt::testing
