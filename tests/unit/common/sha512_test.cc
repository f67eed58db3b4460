#include "common/sha512.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "common/sys/file.h"

namespace podrt {
namespace {

constexpr const char* kAbcDigest =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

TEST(Sha512, KnownVectors) {
  Sha512 abc;
  abc.update("a", 1);
  abc.update("bc", 2);
  EXPECT_EQ(abc.hex_digest(), kAbcDigest);
  Sha512 empty;
  EXPECT_EQ(empty.hex_digest().substr(0, 16), "cf83e1357eefb8bd");
}

TEST(Sha512, HashesAFile) {
  char path[] = "/tmp/podrt-sha512-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  ::close(fd);
  auto digest = sha512_file_hex(path);
  ::unlink(path);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, kAbcDigest);
  EXPECT_FALSE(sha512_file_hex("/nonexistent/podrt-file"));
}

}  // namespace
}  // namespace podrt
