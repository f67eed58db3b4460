#include "common/appc/identifiers.h"

#include <gtest/gtest.h>

namespace podrt::appc {
namespace {

TEST(AcIdentifier, AcceptsSpecExamples) {
  for (const char* value : {"database", "example.com/database", "example.com/user/app_v1",
                            "sub-domain.example.com/org/product/release", "a", "a~b"}) {
    EXPECT_TRUE(validate_ac_identifier(value)) << value;
  }
  // types.md lists "example.com/~user/app_v1" as an example, but its normative regex (and the
  // reference Go implementation) needs an alphanumeric after every separator, so "/~" fails.
  EXPECT_FALSE(validate_ac_identifier("example.com/~user/app_v1"));
}

TEST(AcIdentifier, RejectsBadShapes) {
  for (const char* value : {"", "Busy Box", "UPPER", "-lead", "trail/", "a//b", "a@b", "a b"}) {
    EXPECT_FALSE(validate_ac_identifier(value)) << value;
  }
  EXPECT_EQ(validate_ac_identifier("Busy Box").error().message(),
            "\"Busy Box\" is not a valid AC identifier");
}

TEST(AcName, IsStricterThanIdentifier) {
  EXPECT_TRUE(validate_ac_name("product-database-release"));
  EXPECT_FALSE(validate_ac_name("example.com/db"));
  EXPECT_FALSE(validate_ac_name("a--b"));
  EXPECT_FALSE(validate_ac_name("db-"));
  EXPECT_FALSE(validate_ac_name(""));
}

TEST(ImageId, ReportsFullOrAbbreviated) {
  std::string full = "sha512-" + std::string(128, 'a');
  ASSERT_TRUE(validate_image_id(full));
  EXPECT_EQ(*validate_image_id(full), ImageIdForm::kFull);
  ASSERT_TRUE(validate_image_id("sha512-0123abcd"));
  EXPECT_EQ(*validate_image_id("sha512-0123abcd"), ImageIdForm::kAbbreviated);
  EXPECT_FALSE(validate_image_id("sha256-abcd"));
  EXPECT_FALSE(validate_image_id("sha512-"));
  EXPECT_FALSE(validate_image_id("sha512-..."));
  EXPECT_FALSE(validate_image_id("sha512-ABCD"));
  EXPECT_FALSE(validate_image_id(full + "a"));
}

TEST(AcVersion, FollowsSemVer) {
  for (const char* value : {"0.8.11", "1.0.0", "1.0.0-rc.1", "1.0.0-alpha+build.5", "10.20.30"}) {
    EXPECT_TRUE(validate_ac_version(value)) << value;
  }
  for (const char* value : {"", "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "v1.0.0",
                            "1.0.0+", "1..0"}) {
    EXPECT_FALSE(validate_ac_version(value)) << value;
  }
}

TEST(EnvName, AllowsPosixPlusDotAndDash) {
  EXPECT_TRUE(validate_env_name("REDUCE_WORKER_DEBUG"));
  EXPECT_TRUE(validate_env_name("java.opts-x"));
  EXPECT_TRUE(validate_env_name("_x"));
  EXPECT_FALSE(validate_env_name(""));
  EXPECT_FALSE(validate_env_name("1ABC"));
  EXPECT_FALSE(validate_env_name("A=B"));
  EXPECT_FALSE(validate_env_name("A B"));
}

TEST(OsArch, UsesTheWhitelist) {
  EXPECT_TRUE(validate_os_arch("linux", "amd64"));
  EXPECT_TRUE(validate_os_arch("linux", "aarch64"));
  EXPECT_TRUE(validate_os_arch("linux", "armv7l"));
  EXPECT_TRUE(validate_os_arch("freebsd", "arm"));
  EXPECT_TRUE(validate_os_arch("darwin", "x86_64"));
  EXPECT_TRUE(validate_os_arch("linux", ""));
  EXPECT_FALSE(validate_os_arch("linux", "x86_64"));
  EXPECT_FALSE(validate_os_arch("darwin", "amd64"));
  auto bad_os = validate_os_arch("plan9", "amd64");
  ASSERT_FALSE(bad_os);
  EXPECT_NE(bad_os.error().message().find("os \"plan9\" is not supported"), std::string::npos);
}

TEST(QuoteForMessage, KeepsMessagesOnOneLine) {
  EXPECT_EQ(quote_for_message("a\nb\"c"), "\"a\\x0ab\\\"c\"");
  std::string quoted = quote_for_message(std::string(500, 'x'));
  EXPECT_LT(quoted.size(), 110u);
  EXPECT_NE(quoted.find("..."), std::string::npos);
}

}  // namespace
}  // namespace podrt::appc
