#include "stage0/image/aci_unpacker.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "common/sha512.h"
#include "common/sys/file.h"
#include "tests/unit/stage0/image/aci_test_archives.h"
#include "tests/support/directory_entries.h"

namespace podrt::image {
namespace {

using ::podrt::testing::directory_entries;

using testing::compress;
using testing::dir_entry;
using testing::file_entry;
using testing::hardlink_entry;
using testing::make_tar;
using testing::manifest_entry;
using testing::node_entry;
using testing::symlink_entry;
using testing::TarEntry;

std::string sha512_hex(const std::string& bytes) {
  Sha512 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex_digest();
}

/// A temp dir holding the input (`input.aci`), an empty `rootfs/` and an `outside/` directory
/// that hostile archives aim at; every test checks that only rootfs/ (and the blob) changed.
class AciUnpackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/podrt-aci-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    base_ = pattern;
    rootfs_ = base_ + "/rootfs";
    outside_ = base_ + "/outside";
    input_ = base_ + "/input.aci";
    blob_ = base_ + "/blob";
    ASSERT_EQ(::mkdir(rootfs_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
  }
  void TearDown() override { (void)sys::remove_tree(base_); }

  void write_input(const std::string& bytes) {
    ::unlink(input_.c_str());
    ASSERT_TRUE(sys::write_file_atomic(input_, bytes));
  }

  Result<UnpackedAci> unpack(const std::string& bytes, UnpackLimits limits = {}) {
    write_input(bytes);
    ::unlink(blob_.c_str());
    return unpack_aci(input_, UnpackTargets{blob_, rootfs_}, limits);
  }

  /// Unpacks `bytes`, expects failure with `needle` in a one-line message and nothing outside.
  void expect_refused(const std::string& bytes, const std::string& needle, UnpackLimits limits = {}) {
    auto result = unpack(bytes, limits);
    ASSERT_FALSE(result) << "unpacked although it should not";
    std::string message = result.error().message();
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    expect_nothing_outside();
  }

  void expect_nothing_outside() {
    EXPECT_EQ(directory_entries(outside_), std::set<std::string>());
    std::set<std::string> expected = {"rootfs", "outside", "input.aci"};
    std::set<std::string> actual = directory_entries(base_);
    actual.erase("blob");
    EXPECT_EQ(actual, expected);
  }

  std::string path(const std::string& relative) { return rootfs_ + "/" + relative; }

  std::string base_, rootfs_, outside_, input_, blob_;
};

std::vector<TarEntry> good_entries() {
  std::vector<TarEntry> entries = {manifest_entry(), dir_entry("rootfs"), dir_entry("rootfs/bin")};
  TarEntry tool = file_entry("rootfs/bin/tool", std::string(300'000, 'x') + "end", 04755);
  tool.uid = 1234;
  tool.gid = 4321;
  tool.mtime = 1'500'000'000;
  entries.push_back(tool);
  entries.push_back(symlink_entry("rootfs/bin/sh", "tool"));
  entries.push_back(hardlink_entry("rootfs/bin/tool-link", "rootfs/bin/tool"));
  entries.push_back(dir_entry("rootfs/etc", 0555));
  entries.push_back(file_entry("rootfs/etc/hostname", "podrt\n", 0444));
  entries.push_back(dir_entry("rootfs/tmp", 01777));
  entries.push_back(node_entry("rootfs/run-fifo", AE_IFIFO, 0640));
  entries.push_back(node_entry("rootfs/sock", AE_IFSOCK, 0755));
  entries.push_back(file_entry("rootfs/implicit/parent/file", "deep"));
  entries.push_back(symlink_entry("rootfs/abs-link", "/etc/passwd"));  // only data
  return entries;
}

TEST_F(AciUnpackerTest, ExtractsAGoodAci) {
  std::string tar = make_tar(good_entries());
  auto result = unpack(compress(tar, ARCHIVE_FILTER_GZIP));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_NE(result->manifest_json.find("ImageManifest"), std::string::npos);
  EXPECT_EQ(result->uncompressed_size, tar.size());

  struct stat st;
  ASSERT_EQ(::lstat(path("bin/tool").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_size, 300'003);
  EXPECT_EQ(st.st_mtime, 1'500'000'000);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 4321u);
  }
  EXPECT_EQ(*sys::read_file(path("bin/tool")), std::string(300'000, 'x') + "end");

  struct stat link_st;
  ASSERT_EQ(::lstat(path("bin/tool-link").c_str(), &link_st), 0);
  EXPECT_EQ(link_st.st_ino, st.st_ino);

  char target[64] = {};
  ASSERT_EQ(::readlink(path("bin/sh").c_str(), target, sizeof target - 1), 4);
  EXPECT_STREQ(target, "tool");
  ASSERT_GT(::readlink(path("abs-link").c_str(), target, sizeof target - 1), 0);

  ASSERT_EQ(::lstat(path("etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(*sys::read_file(path("etc/hostname")), "podrt\n");
  ASSERT_EQ(::lstat(path("tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  ASSERT_EQ(::lstat(path("run-fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_FALSE(sys::path_exists(path("sock")));
  EXPECT_EQ(*sys::read_file(path("implicit/parent/file")), "deep");
  expect_nothing_outside();
}

TEST_F(AciUnpackerTest, ImageIdIsSha512OfTheUncompressedTarForEveryCompression) {
  std::string tar = make_tar(good_entries());
  std::string expected_id = "sha512-" + sha512_hex(tar);
  for (int filter : {ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_BZIP2,
                     ARCHIVE_FILTER_XZ, ARCHIVE_FILTER_ZSTD}) {
    SCOPED_TRACE("filter " + std::to_string(filter));
    ASSERT_TRUE(sys::remove_tree(rootfs_));
    ASSERT_EQ(::mkdir(rootfs_.c_str(), 0755), 0);
    auto result = unpack(compress(tar, filter));
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(result->image_id, expected_id);
    EXPECT_EQ(result->image_id.size(), 7u + 128u);
    EXPECT_EQ(*sys::read_file(blob_), tar);
  }
}

TEST_F(AciUnpackerTest, WithoutTargetsOnlyHashesAndValidates) {
  std::string tar = make_tar(good_entries());
  write_input(compress(tar, ARCHIVE_FILTER_XZ));
  auto result = unpack_aci(input_, UnpackTargets{}, UnpackLimits{});
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->image_id, "sha512-" + sha512_hex(tar));
  EXPECT_EQ(directory_entries(rootfs_), std::set<std::string>());

  write_input(make_tar({manifest_entry(), node_entry("rootfs/dev/sda", AE_IFBLK)}));
  EXPECT_FALSE(unpack_aci(input_, UnpackTargets{}, UnpackLimits{}));
}

TEST_F(AciUnpackerTest, AcceptsLeadingDotSlash) {
  auto result = unpack(make_tar({dir_entry("./"), file_entry("./manifest", "{}"),
                                 dir_entry("./rootfs"), file_entry("./rootfs/a", "a")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*sys::read_file(path("a")), "a");
}

TEST_F(AciUnpackerTest, ReplacesEntriesLikeTar) {
  auto result = unpack(make_tar({manifest_entry(), file_entry("rootfs/x", "file"),
                                 dir_entry("rootfs/x"), file_entry("rootfs/x/y", "y"),
                                 file_entry("rootfs/z", "old"), file_entry("rootfs/z", "new"),
                                 symlink_entry("rootfs/s", "z"), file_entry("rootfs/s", "plain")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*sys::read_file(path("x/y")), "y");
  EXPECT_EQ(*sys::read_file(path("z")), "new");
  struct stat st;
  ASSERT_EQ(::lstat(path("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(*sys::read_file(path("z")), "new");
}

TEST_F(AciUnpackerTest, RefusesDotDot) {
  expect_refused(make_tar({manifest_entry(), file_entry("rootfs/../outside/passwd", "x")}),
                 "ACI entry \"rootfs/../outside/passwd\": path escapes the image root");
  expect_refused(make_tar({manifest_entry(), file_entry("rootfs/a/../../../outside/p", "x")}),
                 "path escapes the image root");
}

TEST_F(AciUnpackerTest, RefusesAbsolutePaths) {
  expect_refused(make_tar({manifest_entry(), file_entry(outside_ + "/passwd", "x")}),
                 "absolute paths are not allowed");
}

TEST_F(AciUnpackerTest, RefusesWritesThroughASymlink) {
  expect_refused(make_tar({manifest_entry(), symlink_entry("rootfs/link", outside_),
                           file_entry("rootfs/link/passwd", "pwned")}),
                 "ACI entry \"rootfs/link/passwd\"");
  EXPECT_FALSE(sys::path_exists(outside_ + "/passwd"));
  expect_refused(make_tar({manifest_entry(), symlink_entry("rootfs/up", "../../outside"),
                           dir_entry("rootfs/up/dir")}),
                 "symlink");
  // A symlink deeper in the path, and a directory later replaced by a symlink.
  expect_refused(make_tar({manifest_entry(), dir_entry("rootfs/a"), symlink_entry("rootfs/a/b", outside_),
                           file_entry("rootfs/a/b/c/d", "x")}),
                 "symlink");
  expect_refused(make_tar({manifest_entry(), dir_entry("rootfs/d"), file_entry("rootfs/d/f", "f"),
                           symlink_entry("rootfs/e", outside_), hardlink_entry("rootfs/d", "rootfs/e"),
                           file_entry("rootfs/d/g", "x")}),
                 "ACI entry \"rootfs/d");
}

TEST_F(AciUnpackerTest, RefusesHardlinksLeavingRootfs) {
  ASSERT_TRUE(sys::write_file_atomic(base_ + "/secret", "secret"));
  auto hostile = {std::string("../secret"), std::string("rootfs/../../secret"), base_ + "/secret",
                  std::string("manifest"), std::string("rootfs")};
  for (const std::string& target : hostile) {
    SCOPED_TRACE(target);
    auto result = unpack(make_tar({manifest_entry(), hardlink_entry("rootfs/h", target)}));
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message().find("ACI entry \"rootfs/h\": hardlink target"),
              std::string::npos)
        << result.error().message();
    EXPECT_FALSE(sys::path_exists(path("h")));
  }
  ASSERT_EQ(::unlink((base_ + "/secret").c_str()), 0);
  // Through a symlinked directory inside rootfs, the target is outside: refused.
  ASSERT_TRUE(sys::write_file_atomic(outside_ + "/secret", "secret"));
  auto result = unpack(make_tar({manifest_entry(), symlink_entry("rootfs/l", outside_),
                                 hardlink_entry("rootfs/h", "rootfs/l/secret")}));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("symlink"), std::string::npos) << result.error().message();
  struct stat st;
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  ASSERT_EQ(::unlink((outside_ + "/secret").c_str()), 0);
  expect_refused(make_tar({manifest_entry(), hardlink_entry("rootfs/h", "rootfs/missing")}),
                 "ACI entry \"rootfs/h\"");
}

TEST_F(AciUnpackerTest, RefusesDeviceNodes) {
  expect_refused(make_tar({manifest_entry(), node_entry("rootfs/dev/sda", AE_IFBLK)}),
                 "ACI entry \"rootfs/dev/sda\": device nodes are not allowed");
  expect_refused(make_tar({manifest_entry(), node_entry("rootfs/dev/mem", AE_IFCHR)}),
                 "device nodes are not allowed");
  EXPECT_FALSE(sys::path_exists(path("dev/mem")));
}

std::string big_tar() {
  std::string data(200'000, 'q');
  return make_tar({manifest_entry(), dir_entry("rootfs"), file_entry("rootfs/big", data),
                   file_entry("rootfs/after", "after")});
}

TEST_F(AciUnpackerTest, RefusesTruncatedArchives) {
  std::string tar = big_tar();
  expect_refused(tar.substr(0, 100'000), "ACI");
  expect_refused(tar.substr(0, 700), "ACI");
  std::string gz = compress(tar, ARCHIVE_FILTER_GZIP);
  expect_refused(gz.substr(0, gz.size() / 2), "ACI");
  std::string zst = compress(tar, ARCHIVE_FILTER_ZSTD);
  expect_refused(zst.substr(0, zst.size() - 10), "ACI");
}

TEST_F(AciUnpackerTest, RefusesCorruptBytes) {
  std::string tar = big_tar();
  // The second header (after the manifest's pax header, header and data) loses its checksum.
  std::string damaged = tar;
  size_t big = damaged.find("rootfs/big");
  ASSERT_NE(big, std::string::npos);
  damaged[big] = 'X';
  expect_refused(damaged, "ACI");
  std::string gz = compress(tar, ARCHIVE_FILTER_GZIP);
  for (size_t i = gz.size() / 3; i < gz.size() / 3 + 64; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  expect_refused(gz, "ACI");
  expect_refused(std::string(5000, 'z'), "ACI");
  expect_refused("", "read ACI");
}

TEST_F(AciUnpackerTest, StopsADecompressionBomb) {
  std::string tar = make_tar({manifest_entry(), file_entry("rootfs/zeros", std::string(64 << 20, '\0'))});
  UnpackLimits limits;
  limits.max_unpacked_bytes = 8 << 20;
  expect_refused(compress(tar, ARCHIVE_FILTER_GZIP),
                 "uncompressed size exceeds the limit of 8388608 bytes (decompression bomb?)", limits);
  // It stopped at the limit: the blob never grew past it.
  struct stat st;
  if (::stat(blob_.c_str(), &st) == 0) {
    EXPECT_LE(st.st_size, 8 << 20);
  }
  // Zeros after the end of the tar count too.
  std::string padded = make_tar({manifest_entry()}) + std::string(16 << 20, '\0');
  expect_refused(compress(padded, ARCHIVE_FILTER_XZ), "decompression bomb", limits);
}

TEST_F(AciUnpackerTest, LimitsEntryCount) {
  UnpackLimits limits;
  limits.max_entries = 3;
  expect_refused(make_tar({manifest_entry(), dir_entry("rootfs"), file_entry("rootfs/a", ""),
                           file_entry("rootfs/b", "")}),
                 "more than 3 entries", limits);
}

TEST_F(AciUnpackerTest, RequiresAManifestAndNothingElseAtTheTop) {
  expect_refused(make_tar({dir_entry("rootfs"), file_entry("rootfs/a", "a")}),
                 "not an ACI: no manifest");
  expect_refused(make_tar({manifest_entry(), file_entry("extra", "x")}),
                 "ACI entry \"extra\": unexpected top-level entry");
  expect_refused(make_tar({manifest_entry(), dir_entry("rootfsx")}), "unexpected top-level entry");
  expect_refused(make_tar({manifest_entry(), file_entry("manifest/x", "x")}),
                 "unexpected top-level entry");
  expect_refused(make_tar({manifest_entry(), file_entry("rootfs", "x")}), "rootfs must be a directory");
  expect_refused(make_tar({symlink_entry("manifest", "/etc/passwd")}), "manifest must be a regular file");
  expect_refused(make_tar({manifest_entry(), manifest_entry()}), "duplicate manifest");
}

TEST_F(AciUnpackerTest, RefusesAnOversizedManifest) {
  UnpackLimits limits;
  limits.max_manifest_bytes = 1000;
  expect_refused(make_tar({manifest_entry(std::string(1001, ' '))}),
                 "ACI entry \"manifest\": manifest is larger than the limit of 1000 bytes", limits);
}

TEST_F(AciUnpackerTest, UnpacksAnAciBuiltByActool) {
  if (::access("/usr/bin/actool", X_OK) != 0) GTEST_SKIP() << "actool is not installed";
  std::string layout = base_ + "/layout";
  ASSERT_TRUE(sys::make_directories(layout + "/rootfs/bin"));
  ASSERT_TRUE(sys::write_file_atomic(
      layout + "/manifest",
      R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/hello",)"
      R"("labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]})"));
  ASSERT_TRUE(sys::write_file_atomic(layout + "/rootfs/bin/hello", "#!/bin/sh\necho hi\n", 0755));
  ASSERT_EQ(::symlink("hello", (layout + "/rootfs/bin/hi").c_str()), 0);
  std::string built = base_ + "/built.aci";
  std::string command = "actool build --overwrite " + layout + " " + built + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);

  auto result = unpack_aci(built, UnpackTargets{blob_, rootfs_}, UnpackLimits{});
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(*sys::read_file(path("bin/hello")), "#!/bin/sh\necho hi\n");
  char target[16] = {};
  ASSERT_EQ(::readlink(path("bin/hi").c_str(), target, sizeof target - 1), 5);
  EXPECT_NE(result->manifest_json.find("example.com/hello"), std::string::npos);
  // The id, computed independently from gzip's output.
  std::string sum_command = "gzip -dc " + built + " | sha512sum";
  FILE* pipe = ::popen(sum_command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char sum[129] = {};
  ASSERT_EQ(std::fread(sum, 1, 128, pipe), 128u);
  ::pclose(pipe);
  EXPECT_EQ(result->image_id, std::string("sha512-") + sum);
  EXPECT_EQ(result->image_id, "sha512-" + *sha512_file_hex(blob_));
}

}  // namespace
}  // namespace podrt::image
