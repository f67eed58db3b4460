#include "stage1-kvm/devices/boot_timer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace std::chrono_literals;

TEST(BootTimerTest, MagicWriteReportsTheTimeSinceStartOnce) {
  std::vector<std::chrono::nanoseconds> reports;
  auto start = BootTimer::Clock::now() - 250ms;
  BootTimer timer(start, [&reports](std::chrono::nanoseconds since) { reports.push_back(since); });
  const uint8_t magic = layout::kBootTimerMagic;
  timer.write(0, {&magic, 1});
  timer.write(0, {&magic, 1});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_GE(reports[0], 250ms);
  EXPECT_LT(reports[0], 60s);
}

TEST(BootTimerTest, OtherValuesAndWidthsAreIgnored) {
  int reports = 0;
  BootTimer timer(BootTimer::Clock::now(), [&reports](std::chrono::nanoseconds) { ++reports; });
  for (int value = 0; value < 256; ++value) {
    if (value == layout::kBootTimerMagic) continue;
    const uint8_t byte = static_cast<uint8_t>(value);
    timer.write(0, {&byte, 1});
  }
  const uint8_t wide[2] = {layout::kBootTimerMagic, 0};
  timer.write(0, wide);
  EXPECT_EQ(reports, 0);
  const uint8_t magic = layout::kBootTimerMagic;
  timer.write(0, {&magic, 1});
  EXPECT_EQ(reports, 1);
}

TEST(BootTimerTest, ReadsAllOnes) {
  BootTimer timer(BootTimer::Clock::now(), [](std::chrono::nanoseconds) {});
  uint8_t data[4] = {};
  timer.read(0, data);
  for (uint8_t byte : data) EXPECT_EQ(byte, 0xff);
}

}  // namespace
}  // namespace podrt::vmm
