#include "common/result.h"

#include <gtest/gtest.h>

namespace podrt {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return Error::invalid("not positive: " + std::to_string(value));
  return value;
}

Result<int> doubled(int value) {
  int checked = PODRT_TRY_CONTEXT(parse_positive(value), "double");
  return checked * 2;
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(*doubled(21), 42);
  Result<int> failed = doubled(-1);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(), "double: not positive: -1");
}

TEST(Error, AppendsErrnoText) {
  Error error = Error::with_code(ENOENT, "open /nope");
  EXPECT_EQ(error.message(), "open /nope: No such file or directory");
  EXPECT_EQ(error.code(), ENOENT);
}

}  // namespace
}  // namespace podrt
