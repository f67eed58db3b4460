#include "common/metadata/form_decode.h"

#include <gtest/gtest.h>

namespace podrt::metadata {
namespace {

TEST(MetadataFormTest, DecodesPlusAndPercentEscapes) {
  auto form = decode_form("content=a+b%2Bc%26d%3De%00f&uuid=x&empty=");
  ASSERT_TRUE(form) << form.error().message();
  EXPECT_EQ(form->at("content"), std::string("a b+c&d=e\0f", 11));
  EXPECT_EQ(form->at("uuid"), "x");
  EXPECT_EQ(form->at("empty"), "");
  EXPECT_EQ(form->size(), 3u);
}

TEST(MetadataFormTest, EmptyBodyAndStrayAmpersandsAreFine) {
  auto empty = decode_form("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto stray = decode_form("&a=1&&");
  ASSERT_TRUE(stray);
  EXPECT_EQ(stray->at("a"), "1");
}

TEST(MetadataFormTest, RejectsMalformedInput) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "a=%4g", "=x", "novalue", "a=1&a=2", "%zz=1"}) {
    auto form = decode_form(bad);
    EXPECT_FALSE(form) << bad;
    if (!form) {
      EXPECT_EQ(form.error().message().find('\n'), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace podrt::metadata
