#include "stage1-kvm/kvm/vcpu_exit.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace podrt::vmm {
namespace {

// Read exits hand out writable data, write exits read-only data: a handler cannot get it wrong.
static_assert(std::is_same_v<decltype(vcpu_exit::IoIn::data), std::span<uint8_t>>);
static_assert(std::is_same_v<decltype(vcpu_exit::MmioRead::data), std::span<uint8_t>>);
static_assert(std::is_same_v<decltype(vcpu_exit::IoOut::data), std::span<const uint8_t>>);
static_assert(std::is_same_v<decltype(vcpu_exit::MmioWrite::data), std::span<const uint8_t>>);

TEST(VcpuExit, KindMatchesTheAlternative) {
  uint8_t bytes[6] = {1, 2, 3, 4, 5, 6};
  const VcpuExit in = vcpu_exit::IoIn{0x3f8, 2, 3, bytes};
  EXPECT_EQ(in.kind(), VcpuExit::Kind::kIoIn);
  ASSERT_NE(in.as<vcpu_exit::IoIn>(), nullptr);
  EXPECT_EQ(in.as<vcpu_exit::IoOut>(), nullptr);
  EXPECT_EQ(in.as<vcpu_exit::IoIn>()->element(2).data(), bytes + 4);
  EXPECT_EQ(in.as<vcpu_exit::IoIn>()->element(2).size(), 2u);
  EXPECT_EQ(VcpuExit(vcpu_exit::Shutdown{}).kind(), VcpuExit::Kind::kShutdown);
  EXPECT_EQ(VcpuExit(vcpu_exit::Unknown{99}).kind(), VcpuExit::Kind::kUnknown);
  EXPECT_EQ(VcpuExit(vcpu_exit::Interrupted{}).kind(), VcpuExit::Kind::kInterrupted);
}

TEST(VcpuExit, DescribesItselfInOneLine) {
  uint8_t bytes[4] = {};
  EXPECT_EQ(VcpuExit(vcpu_exit::MmioWrite{0xd0000050, bytes}).describe(),
            "MMIO write of 4 bytes at 0xd0000050");
  EXPECT_EQ(VcpuExit(vcpu_exit::IoIn{0x60, 1, 1, {bytes, 1}}).describe(),
            "port read of 1 x 1 bytes at 0x60");
  EXPECT_EQ(VcpuExit(vcpu_exit::FailEntry{0x21, 3}).describe(),
            "entry failed on host CPU 3, hardware reason 0x21");
  EXPECT_EQ(VcpuExit(vcpu_exit::Unknown{17}).describe(), "unhandled exit reason 17");
}

}  // namespace
}  // namespace podrt::vmm
