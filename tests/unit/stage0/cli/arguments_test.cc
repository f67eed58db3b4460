#include "stage0/cli/arguments.h"

#include <gtest/gtest.h>

namespace podrt::cli {
namespace {

TEST(ParseDuration, AcceptsGoStyleDurations) {
  EXPECT_EQ(*parse_duration("0"), 0);
  EXPECT_EQ(*parse_duration("90s"), 90);
  EXPECT_EQ(*parse_duration("30m"), 1800);
  EXPECT_EQ(*parse_duration("1h30m"), 5400);
  EXPECT_EQ(*parse_duration("2d"), 172800);
  for (const char* bad : {"", "10", "m", "5x", "-5m", "1h-"}) {
    auto result = parse_duration(bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_NE(result.error().message().find("bad duration"), std::string::npos);
  }
}

TEST(ParseSize, AcceptsBinarySuffixes) {
  EXPECT_EQ(*parse_size("512"), 512u);
  EXPECT_EQ(*parse_size("64K"), 64u << 10);
  EXPECT_EQ(*parse_size("8Mi"), 8u << 20);
  EXPECT_EQ(*parse_size("16G"), 16ULL << 30);
  for (const char* bad : {"", "G", "12Q", "1.5G", "-1"}) EXPECT_FALSE(parse_size(bad)) << bad;
}

TEST(ParseInsecureOptions, ExpandsRktsGroupsAndRefusesUnknownNames) {
  EXPECT_EQ(*parse_insecure_options("image"), (std::set<std::string>{"image"}));
  EXPECT_EQ(*parse_insecure_options("all-fetch"), (std::set<std::string>{"image", "tls", "http"}));
  EXPECT_EQ(parse_insecure_options("all")->size(), 6u);
  EXPECT_TRUE(parse_insecure_options("none")->empty());
  EXPECT_TRUE(parse_insecure_options("")->empty());
  auto bad = parse_insecure_options("image,bogus");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("bogus"), std::string::npos);
}

}  // namespace
}  // namespace podrt::cli
