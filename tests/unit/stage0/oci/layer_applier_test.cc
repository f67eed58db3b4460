// apply_layer: layers stacked into one rootfs, whiteouts, and layers that try to reach outside.
#include "stage0/oci/layer_applier.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "common/sys/file.h"
#include "tests/unit/stage0/image/aci_test_archives.h"
#include "tests/support/directory_entries.h"

namespace podrt::oci {
namespace {

using ::podrt::testing::directory_entries;

using image::testing::compress;
using image::testing::dir_entry;
using image::testing::file_entry;
using image::testing::hardlink_entry;
using image::testing::make_tar;
using image::testing::node_entry;
using image::testing::symlink_entry;
using image::testing::TarEntry;

/// A temp dir with an empty rootfs/ and an outside/ holding a canary that hostile layers aim at.
class LayerApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/podrt-layer-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    base_ = pattern;
    rootfs_ = base_ + "/rootfs";
    outside_ = base_ + "/outside";
    ASSERT_EQ(::mkdir(rootfs_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    ASSERT_TRUE(sys::write_file_atomic(outside_ + "/canary", "alive"));
  }
  void TearDown() override { (void)sys::remove_tree(base_); }

  Result<LayerApplyStats> apply_bytes(const std::string& bytes, image::UnpackLimits limits = {}) {
    std::string blob = base_ + "/layer-" + std::to_string(++layers_);
    auto written = sys::write_file_atomic(blob, bytes);
    if (!written) return std::move(written).error();
    return apply_layer(blob, rootfs_, limits, "");
  }
  Result<LayerApplyStats> apply(const std::vector<TarEntry>& entries, int filter = ARCHIVE_FILTER_NONE,
                                image::UnpackLimits limits = {}) {
    return apply_bytes(compress(make_tar(entries), filter), limits);
  }
  void apply_ok(const std::vector<TarEntry>& entries, int filter = ARCHIVE_FILTER_NONE) {
    auto result = apply(entries, filter);
    ASSERT_TRUE(result) << result.error().message();
  }

  /// Applies a layer that must fail with `needle` in a one-line message, leaving outside/ alone.
  void expect_refused(const std::vector<TarEntry>& entries, const std::string& needle) {
    auto result = apply(entries);
    ASSERT_FALSE(result) << "applied although it should not";
    std::string message = result.error().message();
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    expect_outside_untouched();
  }

  void expect_outside_untouched() {
    EXPECT_EQ(directory_entries(outside_), std::set<std::string>{"canary"});
    auto canary = sys::read_file(outside_ + "/canary");
    ASSERT_TRUE(canary) << "the canary outside the root is gone";
    EXPECT_EQ(*canary, "alive");
    std::set<std::string> top = directory_entries(base_);
    for (auto it = top.begin(); it != top.end();) it = it->starts_with("layer-") ? top.erase(it) : std::next(it);
    EXPECT_EQ(top, (std::set<std::string>{"rootfs", "outside"}));
  }

  std::string path(const std::string& relative) { return rootfs_ + "/" + relative; }
  bool exists(const std::string& relative) {
    struct stat st;
    return ::lstat(path(relative).c_str(), &st) == 0;
  }
  std::string content(const std::string& relative) {
    auto text = sys::read_file(path(relative));
    return text ? *text : "<missing>";
  }
  mode_t type_of(const std::string& relative) {
    struct stat st;
    if (::lstat(path(relative).c_str(), &st) != 0) return 0;
    return st.st_mode & S_IFMT;
  }

  std::string base_, rootfs_, outside_;
  int layers_ = 0;
};

TEST_F(LayerApplierTest, StacksPlainGzipAndZstdLayers) {
  apply_ok({dir_entry("etc"), file_entry("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644),
            dir_entry("bin"), file_entry("bin/tool", "v1", 0755), symlink_entry("bin/sh", "tool"),
            node_entry("run-fifo", AE_IFIFO, 0640)});
  apply_ok({file_entry("etc/passwd", "v2"), file_entry("etc/hostname", "podrt")}, ARCHIVE_FILTER_GZIP);
  apply_ok({file_entry("bin/tool", "v3", 0700)}, ARCHIVE_FILTER_ZSTD);
  EXPECT_EQ(content("etc/passwd"), "v2");
  EXPECT_EQ(content("etc/hostname"), "podrt");
  EXPECT_EQ(content("bin/tool"), "v3");
  struct stat st;
  ASSERT_EQ(::lstat(path("bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(type_of("bin/sh"), static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(type_of("run-fifo"), static_cast<mode_t>(S_IFIFO));
  expect_outside_untouched();
}

TEST_F(LayerApplierTest, ReportsEntriesAndUncompressedBytes) {
  std::string tar = make_tar({dir_entry("a"), file_entry("a/f", std::string(5000, 'x'))});
  auto stats = apply_bytes(compress(tar, ARCHIVE_FILTER_GZIP));
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->entries, 2u);
  // Up to the end-of-archive blocks; the writer's padding after them is not read.
  EXPECT_GE(stats->bytes, 5000u + 3 * 512);
  EXPECT_LE(stats->bytes, tar.size());
}

TEST_F(LayerApplierTest, ADirectoryOverADirectoryMerges) {
  apply_ok({dir_entry("etc", 0755), file_entry("etc/a", "a")});
  apply_ok({dir_entry("etc", 0700), file_entry("etc/b", "b")});
  EXPECT_EQ(content("etc/a"), "a");
  EXPECT_EQ(content("etc/b"), "b");
  struct stat st;
  ASSERT_EQ(::lstat(path("etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);  // the upper layer's metadata wins
}

TEST_F(LayerApplierTest, WhiteoutRemovesALowerFile) {
  apply_ok({dir_entry("etc"), file_entry("etc/a", "a"), file_entry("etc/b", "b")});
  apply_ok({dir_entry("etc"), file_entry("etc/.wh.a", "")});
  EXPECT_FALSE(exists("etc/a"));
  EXPECT_EQ(content("etc/b"), "b");
  EXPECT_EQ(directory_entries(path("etc")), std::set<std::string>{"b"});
}

TEST_F(LayerApplierTest, WhiteoutRemovesAWholeTree) {
  apply_ok({dir_entry("usr"), dir_entry("usr/share"), dir_entry("usr/share/doc"),
            dir_entry("usr/share/doc/pkg", 0555), file_entry("usr/share/doc/pkg/README", "r", 0444),
            symlink_entry("usr/share/doc/pkg/link", "/etc"), file_entry("usr/share/keep", "k")});
  apply_ok({file_entry("usr/share/.wh.doc", "")});
  EXPECT_FALSE(exists("usr/share/doc"));
  EXPECT_EQ(directory_entries(path("usr/share")), std::set<std::string>{"keep"});
}

TEST_F(LayerApplierTest, WhiteoutOfSomethingAbsentIsFine) {
  apply_ok({file_entry(".wh.nothing", ""), file_entry("missing/dir/.wh.x", "")});
  EXPECT_EQ(directory_entries(rootfs_), std::set<std::string>{});
}

TEST_F(LayerApplierTest, WhiteoutHidesLowerLayersOnlyNotTheSameLayer) {
  apply_ok({file_entry("a", "lower")});
  apply_ok({file_entry("a", "upper"), file_entry(".wh.a", "")});
  EXPECT_EQ(content("a"), "upper");
  EXPECT_FALSE(exists(".wh.a"));
}

TEST_F(LayerApplierTest, OpaqueDirectoryKeepsOnlyThisLayersEntries) {
  apply_ok({dir_entry("d"), file_entry("d/old", "o"), dir_entry("d/sub"), file_entry("d/sub/old2", "o"),
            dir_entry("d/merged"), file_entry("d/merged/lower", "l"), file_entry("other", "x")});
  apply_ok({dir_entry("d"), file_entry("d/before", "b"), dir_entry("d/merged"),
            file_entry("d/merged/new", "n"), file_entry("d/.wh..wh..opq", ""),
            file_entry("d/after", "a")});
  EXPECT_EQ(directory_entries(path("d")), (std::set<std::string>{"before", "merged", "after"}));
  // d/merged is this layer's directory: the lower one's contents are hidden as well.
  EXPECT_EQ(directory_entries(path("d/merged")), std::set<std::string>{"new"});
  EXPECT_EQ(content("d/before"), "b");
  EXPECT_EQ(content("d/after"), "a");
  EXPECT_EQ(content("other"), "x");  // outside the opaque directory: untouched
}

TEST_F(LayerApplierTest, OpaqueMarkerKeepsImplicitParentsOfThisLayer) {
  apply_ok({dir_entry("d"), dir_entry("d/a"), file_entry("d/a/old", "o")});
  // No entry for d/a itself: the file below it makes it this layer's too.
  apply_ok({file_entry("d/a/new", "n"), file_entry("d/.wh..wh..opq", "")});
  EXPECT_EQ(directory_entries(path("d")), std::set<std::string>{"a"});
  EXPECT_EQ(directory_entries(path("d/a")), std::set<std::string>{"new"});
}

TEST_F(LayerApplierTest, ReplacesAFileByADirectoryAndADirectoryByAFile) {
  apply_ok({file_entry("a", "file"), dir_entry("b"), dir_entry("b/c"), file_entry("b/c/d", "deep")});
  apply_ok({dir_entry("a"), file_entry("a/x", "x"), file_entry("b", "now a file")});
  EXPECT_EQ(type_of("a"), static_cast<mode_t>(S_IFDIR));
  EXPECT_EQ(content("a/x"), "x");
  EXPECT_EQ(type_of("b"), static_cast<mode_t>(S_IFREG));
  EXPECT_EQ(content("b"), "now a file");
}

TEST_F(LayerApplierTest, ADirectoryReplacesALowerSymlinkInsteadOfFollowingIt) {
  apply_ok({symlink_entry("etc", outside_)});
  apply_ok({dir_entry("etc"), file_entry("etc/passwd", "mine")});
  EXPECT_EQ(type_of("etc"), static_cast<mode_t>(S_IFDIR));
  EXPECT_EQ(content("etc/passwd"), "mine");
  expect_outside_untouched();
}

TEST_F(LayerApplierTest, HardlinksToALowerLayersFile) {
  apply_ok({dir_entry("bin"), file_entry("bin/tool", "tool", 0755)});
  apply_ok({dir_entry("sbin"), hardlink_entry("sbin/alias", "bin/tool"),
            file_entry("bin/new", "n"), hardlink_entry("./bin/new-link", "./bin/new")});
  struct stat tool, alias, fresh, fresh_link;
  ASSERT_EQ(::lstat(path("bin/tool").c_str(), &tool), 0);
  ASSERT_EQ(::lstat(path("sbin/alias").c_str(), &alias), 0);
  EXPECT_EQ(tool.st_ino, alias.st_ino);
  ASSERT_EQ(::lstat(path("bin/new").c_str(), &fresh), 0);
  ASSERT_EQ(::lstat(path("bin/new-link").c_str(), &fresh_link), 0);
  EXPECT_EQ(fresh.st_ino, fresh_link.st_ino);
}

TEST_F(LayerApplierTest, SkipsDeviceNodesAndSockets) {
  apply_ok({dir_entry("dev"), node_entry("dev/sda", AE_IFBLK), node_entry("dev/null", AE_IFCHR),
            node_entry("sock", AE_IFSOCK), file_entry("ok", "ok")});
  EXPECT_EQ(directory_entries(path("dev")), std::set<std::string>{});
  EXPECT_FALSE(exists("sock"));
  EXPECT_EQ(content("ok"), "ok");
}

TEST_F(LayerApplierTest, RefusesPathsLeavingTheRoot) {
  expect_refused({file_entry("../escape", "x")}, "escapes the image root");
  expect_refused({file_entry("a/../../escape", "x")}, "escapes the image root");
  expect_refused({file_entry(outside_ + "/canary", "pwned")}, "absolute paths are not allowed");
  expect_refused({file_entry("a/../../outside/.wh.canary", "")}, "escapes the image root");
  expect_refused({file_entry("/.wh.etc", "")}, "absolute paths are not allowed");
  expect_refused({file_entry(outside_ + "/.wh.canary", "")}, "absolute paths are not allowed");
  expect_refused({dir_entry("../outside/.wh..wh..opq")}, "escapes the image root");
}

TEST_F(LayerApplierTest, RefusesWhiteoutsThroughASymlinkedDirectory) {
  apply_ok({symlink_entry("link", outside_), symlink_entry("up", "../outside")});
  expect_refused({file_entry("link/.wh.canary", "")}, "symlink");
  expect_refused({file_entry("up/.wh.canary", "")}, "symlink");
  expect_refused({file_entry("link/.wh..wh..opq", "")}, "symlink");
  expect_refused({file_entry("up/.wh..wh..opq", "")}, "symlink");
  // The symlink itself may be whited out: it goes, its target stays.
  apply_ok({file_entry(".wh.link", "")});
  EXPECT_FALSE(exists("link"));
  expect_outside_untouched();
}

TEST_F(LayerApplierTest, RefusesWritesThroughSymlinks) {
  apply_ok({symlink_entry("link", outside_), dir_entry("a"), symlink_entry("a/b", "../../outside")});
  expect_refused({file_entry("link/pwned", "x")}, "symlink");
  expect_refused({dir_entry("link/dir")}, "symlink");
  expect_refused({file_entry("a/b/c/d", "x")}, "symlink");
  expect_refused({symlink_entry("link/s", "/")}, "symlink");
  expect_refused({hardlink_entry("link/h", "a")}, "symlink");
}

TEST_F(LayerApplierTest, RefusesHardlinksLeavingTheRoot) {
  apply_ok({symlink_entry("link", outside_)});
  expect_refused({hardlink_entry("h", "../outside/canary")}, "hardlink target");
  expect_refused({hardlink_entry("h", outside_ + "/canary")}, "hardlink target");
  expect_refused({hardlink_entry("h", "link/canary")}, "symlink");
  EXPECT_FALSE(exists("h"));
  struct stat st;
  ASSERT_EQ(::stat((outside_ + "/canary").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_F(LayerApplierTest, RefusesMalformedWhiteouts) {
  apply_ok({dir_entry("a"), file_entry("a/f", "f")});
  expect_refused({file_entry("a/.wh...", "")}, "not a valid whiteout");
  expect_refused({file_entry("a/.wh..", "")}, "not a valid whiteout");
  expect_refused({file_entry("a/.wh.", "")}, "not a valid whiteout");
  expect_refused({file_entry("a/.wh.x/inside", "")}, "a whiteout cannot hold entries");
  EXPECT_EQ(content("a/f"), "f");
  EXPECT_EQ(directory_entries(rootfs_), std::set<std::string>{"a"});
}

TEST_F(LayerApplierTest, SkipsAufsMetadata) {
  apply_ok({file_entry(".wh..wh.aufs", ""), dir_entry(".wh..wh.plnk"), file_entry("f", "f")});
  EXPECT_EQ(directory_entries(rootfs_), std::set<std::string>{"f"});
}

TEST_F(LayerApplierTest, LimitsEntryCount) {
  image::UnpackLimits limits;
  limits.max_entries = 3;
  auto result = apply({file_entry("a", ""), file_entry("b", ""), file_entry("c", ""), file_entry("d", "")},
                      ARCHIVE_FILTER_NONE, limits);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("more than 3 entries"), std::string::npos)
      << result.error().message();
  EXPECT_FALSE(exists("d"));
  ASSERT_TRUE(apply({file_entry("a", ""), file_entry("b", ""), file_entry("c", "")},
                    ARCHIVE_FILTER_NONE, limits));
}

TEST_F(LayerApplierTest, StopsADecompressionBomb) {
  image::UnpackLimits limits;
  limits.max_unpacked_bytes = 1 << 20;
  std::string bomb = compress(make_tar({file_entry("zeros", std::string(8 << 20, '\0'))}), ARCHIVE_FILTER_GZIP);
  ASSERT_LT(bomb.size(), 100'000u);
  auto result = apply_bytes(bomb, limits);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("limit of 1048576 bytes"), std::string::npos)
      << result.error().message();
  EXPECT_FALSE(exists("zeros"));  // refused before a byte was written
}

TEST_F(LayerApplierTest, RefusesTruncatedAndCorruptLayers) {
  std::string tar = make_tar({file_entry("big", std::string(100'000, 'x'))});
  auto truncated = apply_bytes(tar.substr(0, 20'000));
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().message().find('\n'), std::string::npos);
  std::string gz = compress(tar, ARCHIVE_FILTER_GZIP);
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  auto corrupt = apply_bytes(gz);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().message().find('\n'), std::string::npos);
  auto garbage = apply_bytes(std::string(4096, 'g'));
  EXPECT_FALSE(garbage);
  expect_outside_untouched();
}

}  // namespace
}  // namespace podrt::oci
