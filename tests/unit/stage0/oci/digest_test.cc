// sha256 digests, and the verified blob copies built on them.
#include "stage0/oci/digest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/sys/file.h"
#include "stage0/oci/blob_copy.h"
#include "tests/support/command_runner.h"
#include "tests/unit/stage0/oci/sha256_of.h"

namespace podrt::oci {
namespace {

using ::podrt::oci::testing::sha256_of;

constexpr char kEmpty[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(ParseDigestTest, AcceptsSha256WithLowercaseHex) {
  auto parsed = parse_digest(kAbc);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, kAbc);
}

TEST(ParseDigestTest, RefusesPathTraversal) {
  auto parsed = parse_digest("sha256:../..");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("64 lowercase hex"), std::string::npos)
      << parsed.error().message();
  EXPECT_FALSE(parse_digest("sha256:../../../../../../../../../../../../../../../../../etc/passwd"));
  std::string with_slash = std::string(kAbc);
  with_slash[20] = '/';
  EXPECT_FALSE(parse_digest(with_slash));
}

TEST(ParseDigestTest, RefusesUppercaseHex) {
  std::string upper = "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
  EXPECT_FALSE(parse_digest(upper));
}

TEST(ParseDigestTest, RefusesOtherAlgorithms) {
  auto parsed = parse_digest("sha512:" + std::string(128, 'a'));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("sha256 only"), std::string::npos)
      << parsed.error().message();
  EXPECT_FALSE(parse_digest("SHA256:" + std::string(64, 'a')));
}

TEST(ParseDigestTest, RefusesMalformed) {
  EXPECT_FALSE(parse_digest(""));
  EXPECT_FALSE(parse_digest("sha256:"));
  EXPECT_FALSE(parse_digest(std::string(64, 'a')));
  EXPECT_FALSE(parse_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(parse_digest("sha256:" + std::string(65, 'a')));
  EXPECT_FALSE(parse_digest("sha256:" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(parse_digest(std::string("sha256:") + std::string(63, 'a') + std::string(1, '\0')));
}

TEST(ParseDigestTest, ErrorIsOneShortLine) {
  auto parsed = parse_digest("sha256:" + std::string(10000, 'x') + "\n");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message().find('\n'), std::string::npos);
  EXPECT_LT(parsed.error().message().size(), 300u);
}

TEST(DigestFileNameTest, ReplacesTheColon) {
  EXPECT_EQ(digest_file_name(kAbc),
            "sha256-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(sha256_of(""), kEmpty);
  EXPECT_EQ(sha256_of("abc"), kAbc);
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
  Sha256 sha;
  sha.update(std::string_view("a"));
  sha.update(std::string_view(""));
  const unsigned char rest[] = {'b', 'c'};
  sha.update(std::span<const unsigned char>(rest, 2));
  EXPECT_EQ(sha.digest(), kAbc);
}

TEST(Sha256Test, OfFile) {
  podrt::testing::TempDir dir;
  std::string path = dir.path() + "/f";
  ASSERT_TRUE(sys::write_file_atomic(path, "abc"));
  auto digest = sha256_of_file(path);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, kAbc);
  EXPECT_FALSE(sha256_of_file(dir.path() + "/missing"));
}

TEST(ExpectDigestTest, SaysWhatAndBoth) {
  EXPECT_TRUE(expect_digest("layer", kAbc, kAbc));
  auto mismatch = expect_digest("layer 1", kAbc, kEmpty);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().message(),
            std::string("layer 1: digest mismatch: expected ") + kAbc + ", got " + kEmpty);
}

class BlobCopyTest : public ::testing::Test {
 protected:
  std::string write_source(const std::string& content) {
    std::string path = dir_.path() + "/source";
    EXPECT_TRUE(sys::write_file_atomic(path, content));
    return path;
  }
  podrt::testing::TempDir dir_;
};

TEST_F(BlobCopyTest, CopiesAndVerifies) {
  std::string source = write_source("abc");
  std::string destination = dir_.path() + "/copy";
  auto digest = copy_verified(source, destination, kAbc, 100);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, kAbc);
  EXPECT_EQ(sys::read_file(destination).value_or(""), "abc");
}

TEST_F(BlobCopyTest, ComputesWhenNoDigestIsExpected) {
  std::string source = write_source("abc");
  auto fd = sys::open_file(source, O_RDONLY);
  ASSERT_TRUE(fd) << fd.error().message();
  auto digest = copy_verified(fd->get(), dir_.path() + "/copy", "", 3);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, kAbc);
}

TEST_F(BlobCopyTest, MismatchRemovesTheCopy) {
  std::string source = write_source("abd");
  std::string destination = dir_.path() + "/copy";
  auto digest = copy_verified(source, destination, kAbc, 100);
  ASSERT_FALSE(digest);
  EXPECT_NE(digest.error().message().find(std::string("digest mismatch: expected ") + kAbc + ", got sha256:"),
            std::string::npos)
      << digest.error().message();
  EXPECT_FALSE(sys::path_exists(destination));
}

TEST_F(BlobCopyTest, OverLimitRemovesTheCopy) {
  std::string source = write_source("abcd");
  std::string destination = dir_.path() + "/copy";
  auto digest = copy_verified(source, destination, "", 3);
  ASSERT_FALSE(digest);
  EXPECT_NE(digest.error().message().find("larger than the limit of 3 bytes"), std::string::npos)
      << digest.error().message();
  EXPECT_FALSE(sys::path_exists(destination));
}

TEST_F(BlobCopyTest, NeverOverwrites) {
  std::string source = write_source("abc");
  std::string destination = dir_.path() + "/copy";
  ASSERT_TRUE(sys::write_file_atomic(destination, "keep"));
  EXPECT_FALSE(copy_verified(source, destination, "", 100));
  EXPECT_EQ(sys::read_file(destination).value_or(""), "keep");
  // Nor writes through a symlink planted at the destination.
  ASSERT_EQ(::symlink(source.c_str(), (dir_.path() + "/link").c_str()), 0);
  EXPECT_FALSE(copy_verified(source, dir_.path() + "/link", "", 100));
}

TEST_F(BlobCopyTest, RefusesAMalformedExpectedDigest) {
  std::string source = write_source("abc");
  EXPECT_FALSE(copy_verified(source, dir_.path() + "/copy", "sha256:../..", 100));
  EXPECT_FALSE(sys::path_exists(dir_.path() + "/copy"));
}

TEST_F(BlobCopyTest, AbandonedWriterRemovesItsFile) {
  std::string destination = dir_.path() + "/partial";
  {
    auto writer = VerifiedBlobWriter::create(destination, kAbc, 100);
    ASSERT_TRUE(writer) << writer.error().message();
    ASSERT_TRUE(writer->write(std::string_view("ab")));
    EXPECT_TRUE(sys::path_exists(destination));
  }
  EXPECT_FALSE(sys::path_exists(destination));
}

TEST_F(BlobCopyTest, WriterInPieces) {
  std::string destination = dir_.path() + "/pieces";
  auto writer = VerifiedBlobWriter::create(destination, kAbc, 3);
  ASSERT_TRUE(writer) << writer.error().message();
  ASSERT_TRUE(writer->write(std::string_view("a")));
  ASSERT_TRUE(writer->write(std::string_view("bc")));
  EXPECT_EQ(writer->bytes_written(), 3u);
  auto digest = writer->finish();
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, kAbc);
  EXPECT_EQ(sys::read_file(destination).value_or(""), "abc");
}

}  // namespace
}  // namespace podrt::oci
