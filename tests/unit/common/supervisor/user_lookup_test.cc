#include "common/supervisor/user_lookup.h"

#include <gtest/gtest.h>

namespace podrt::supervisor {
namespace {

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment:x:5:5\n"
    "+nis::7:7:::\n"
    "broken-line\n"
    "baduid:x:12a:1::/:/bin/sh\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "app:x:1000:1000::/home/app:/bin/sh";  // no final newline

constexpr std::string_view kGroup =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "appgroup:x:1001:\n";

TEST(UserLookup, FindsNamesAndTakesNumbersAsIs) {
  EXPECT_EQ(*find_uid("root", kPasswd), 0u);
  EXPECT_EQ(*find_uid("www-data", kPasswd), 33u);
  EXPECT_EQ(*find_uid("app", kPasswd), 1000u);
  EXPECT_EQ(*find_uid("4242", kPasswd), 4242u);  // numbers need no entry
  EXPECT_EQ(*find_gid("wheel", kGroup), 10u);
  EXPECT_EQ(*find_gid("appgroup", kGroup), 1001u);
  EXPECT_EQ(*find_gid("0", ""), 0u);
}

TEST(UserLookup, UnknownOrMalformedNamesAreOneLineErrors) {
  auto missing = find_uid("nobody", kPasswd);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "user \"nobody\" not found in /etc/passwd");
  EXPECT_EQ(find_gid("staff", kGroup).error().message(),
            "group \"staff\" not found in /etc/group");
  EXPECT_FALSE(find_uid("baduid", kPasswd));      // non-numeric uid field
  EXPECT_FALSE(find_uid("+nis", kPasswd));        // NIS compat entries are not users
  EXPECT_FALSE(find_uid("broken-line", kPasswd));
  EXPECT_FALSE(find_uid("root:x", kPasswd));      // a ':' must not match across fields
  EXPECT_FALSE(find_uid("", kPasswd));
  EXPECT_FALSE(find_uid("4294967295", kPasswd));  // (uid_t)-1 means "unchanged" to setuid
  EXPECT_FALSE(find_uid("99999999999", kPasswd));
}

}  // namespace
}  // namespace podrt::supervisor
