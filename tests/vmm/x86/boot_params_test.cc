#include "stage1-kvm/x86/boot_params.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace boot_params_values;

constexpr uint64_t kMemorySize = 32ull << 20;
constexpr uint64_t kKernelEnd = (16ull << 20) + 0x5123;

GuestMemory allocate(uint64_t size = kMemorySize) {
  auto memory = GuestMemory::allocate(size);
  EXPECT_TRUE(memory) << memory.error().message();
  return std::move(memory).value();
}

std::vector<uint8_t> initrd_of(uint64_t size) {
  std::vector<uint8_t> bytes(size);
  for (uint64_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  return bytes;
}

TEST(BootParamsTest, MemorySizeMustFitTheLayout) {
  EXPECT_TRUE(validate_memory_size(layout::kMinMemory));
  EXPECT_TRUE(validate_memory_size(layout::kMaxMemory));
  auto small = validate_memory_size(layout::kMinMemory - 4096);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message().find("outside 16 MiB..3328 MiB"), std::string::npos) << small.error().message();
  EXPECT_FALSE(validate_memory_size(layout::kMaxMemory + 4096));
  EXPECT_FALSE(validate_memory_size(0));
  EXPECT_FALSE(validate_memory_size(std::numeric_limits<uint64_t>::max()));
  EXPECT_FALSE(validate_memory_size(layout::kMinMemory + 100));
}

TEST(BootParamsTest, InitrdGoesPageAlignedToTheTopOfRam) {
  GuestMemory memory = allocate();
  const std::vector<uint8_t> initrd = initrd_of(10000);
  auto placed = load_initrd(memory, initrd, kKernelEnd, 0xffffffff);
  ASSERT_TRUE(placed) << placed.error().message();
  EXPECT_EQ(placed->address % 4096, 0u);
  EXPECT_EQ(placed->address, (kMemorySize - 10000) & ~uint64_t{4095});
  EXPECT_EQ(placed->size, 10000u);
  std::vector<uint8_t> back(initrd.size());
  ASSERT_TRUE(memory.read(placed->address, back));
  EXPECT_EQ(back, initrd);
}

TEST(BootParamsTest, InitrdEndsAtOrBelowInitrdAddrMax) {
  GuestMemory memory = allocate();
  const uint64_t limit = (24ull << 20) - 1;  // the last byte's highest address
  auto placed = load_initrd(memory, initrd_of(4096), kKernelEnd, limit);
  ASSERT_TRUE(placed) << placed.error().message();
  EXPECT_EQ(placed->address, (24ull << 20) - 4096) << "exactly at the limit";
  auto anywhere = load_initrd(memory, initrd_of(4096), kKernelEnd, std::numeric_limits<uint64_t>::max());
  ASSERT_TRUE(anywhere) << anywhere.error().message();
  EXPECT_EQ(anywhere->address, kMemorySize - 4096);
}

TEST(BootParamsTest, InitrdTooLargeNamesBothSizes) {
  GuestMemory memory = allocate();
  const uint64_t free = kMemorySize - kKernelEnd;
  auto placed = load_initrd(memory, initrd_of(free + 1), kKernelEnd, 0xffffffff);
  ASSERT_FALSE(placed);
  const std::string message = placed.error().message();
  EXPECT_NE(message.find("initrd of " + std::to_string(free + 1) + " bytes"), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(free) + " bytes free"), std::string::npos) << message;
}

TEST(BootParamsTest, InitrdNeverOverlapsTheKernel) {
  GuestMemory memory = allocate();
  // Fits in the bytes left, but not once its start is rounded down to a page.
  const uint64_t kernel_end = kMemorySize - 8000;
  EXPECT_FALSE(load_initrd(memory, initrd_of(7000), kernel_end, 0xffffffff));
  EXPECT_FALSE(load_initrd(memory, initrd_of(1), kMemorySize + 4096, 0xffffffff)) << "kernel past the top";
  EXPECT_FALSE(load_initrd(memory, initrd_of(4096), kKernelEnd, kKernelEnd)) << "limit below the kernel";
  auto low = load_initrd(memory, initrd_of(4096), 0, 0x1fffff);
  ASSERT_TRUE(low) << low.error().message();
  EXPECT_GE(low->address, layout::kHighRamStart);
  EXPECT_FALSE(load_initrd(memory, initrd_of(4096), 0, 0x100ffe)) << "would need the legacy hole";
}

TEST(BootParamsTest, EmptyInitrdIsRefused) {
  GuestMemory memory = allocate();
  EXPECT_FALSE(load_initrd(memory, std::span<const uint8_t>(), kKernelEnd, 0xffffffff));
}

TEST(BootParamsTest, CommandLineIsWrittenWithItsNul) {
  GuestMemory memory = allocate();
  ASSERT_TRUE(memory.write_object(layout::kCommandLineAddress + 14, uint8_t{'x'}));
  ASSERT_TRUE(write_command_line(memory, "console=ttyS0"));
  char text[14];
  ASSERT_TRUE(memory.read(layout::kCommandLineAddress, {reinterpret_cast<uint8_t*>(text), sizeof text}));
  EXPECT_STREQ(text, "console=ttyS0");
  ASSERT_TRUE(write_command_line(memory, ""));
  EXPECT_EQ(*memory.read_object<uint8_t>(layout::kCommandLineAddress), 0);
}

TEST(BootParamsTest, CommandLineLimits) {
  GuestMemory memory = allocate();
  const std::string longest(layout::kCommandLineMaxSize - 1, 'a');
  ASSERT_TRUE(write_command_line(memory, longest));
  EXPECT_EQ(*memory.read_object<uint8_t>(layout::kCommandLineAddress + longest.size()), 0);
  auto too_long = write_command_line(memory, longest + "a");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message().find("2048 bytes is longer than 2047"), std::string::npos);
  auto with_nul = write_command_line(memory, std::string_view("quiet\0init=/evil", 16));
  ASSERT_FALSE(with_nul);
  EXPECT_NE(with_nul.error().message().find("NUL"), std::string::npos);
}

TEST(BootParamsTest, E820TableDescribesRamAroundTheLegacyHole) {
  const std::vector<boot_e820_entry> table = make_e820_table(kMemorySize);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[0].addr, 0u);
  EXPECT_EQ(table[0].size, layout::kLowRamEnd);
  EXPECT_EQ(table[0].type, kE820Ram);
  EXPECT_EQ(table[1].addr, layout::kLowRamEnd);
  EXPECT_EQ(table[1].addr + table[1].size, layout::kHighRamStart);
  EXPECT_EQ(table[1].type, kE820Reserved);
  EXPECT_LE(table[1].addr, layout::kMpTableAddress) << "the MP table must be in reserved memory";
  EXPECT_EQ(table[2].addr, layout::kHighRamStart);
  EXPECT_EQ(table[2].addr + table[2].size, kMemorySize);
  EXPECT_EQ(table[2].type, kE820Ram);
  const auto largest = make_e820_table(layout::kMaxMemory);
  EXPECT_EQ(largest.back().addr + largest.back().size, layout::kMmioStart);
}

TEST(BootParamsTest, FreshZeroPageForVmlinux) {
  BootParamsInput input;
  input.memory_size = kMemorySize;
  input.command_line_size = 13;
  input.initrd = InitrdPlacement{0x1f00000, 0x12345};
  auto made = make_boot_params(input);
  ASSERT_TRUE(made) << made.error().message();
  const boot_params& params = *made;
  EXPECT_EQ(params.hdr.boot_flag, kBootFlag);
  EXPECT_EQ(params.hdr.header, kHeaderMagic);
  EXPECT_GE(params.hdr.version, 0x0209) << "Linux ignores setup_data below 2.09";
  EXPECT_EQ(params.hdr.type_of_loader, kTypeOfLoader);
  EXPECT_EQ(params.hdr.loadflags, LOADED_HIGH);
  EXPECT_EQ(params.hdr.cmd_line_ptr, layout::kCommandLineAddress);
  EXPECT_EQ(params.ext_cmd_line_ptr, 0u);
  EXPECT_EQ(params.hdr.ramdisk_image, 0x1f00000u);
  EXPECT_EQ(params.hdr.ramdisk_size, 0x12345u);
  EXPECT_EQ(params.ext_ramdisk_image, 0u);
  EXPECT_EQ(params.ext_ramdisk_size, 0u);
  EXPECT_EQ(params.sentinel, 0) << "nonzero makes Linux wipe fields it thinks a loader left stale";
  EXPECT_EQ(params.hdr.setup_data, 0u);
  ASSERT_EQ(params.e820_entries, 3);
  const auto table = make_e820_table(kMemorySize);
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(params.e820_table[i].addr, table[i].addr);
    EXPECT_EQ(params.e820_table[i].size, table[i].size);
    EXPECT_EQ(params.e820_table[i].type, table[i].type);
  }
}

TEST(BootParamsTest, BzImageSetupHeaderIsKeptWithLoaderFields) {
  ::setup_header header{};
  header.boot_flag = kBootFlag;
  header.header = kHeaderMagic;
  header.version = 0x020c;
  header.loadflags = LOADED_HIGH | QUIET_FLAG;
  header.type_of_loader = 0;
  header.init_size = 0x2000000;
  header.pref_address = 0x1000000;
  header.cmdline_size = 255;
  BootParamsInput input;
  input.memory_size = kMemorySize;
  input.command_line_size = 200;
  input.setup_header = header;
  auto made = make_boot_params(input);
  ASSERT_TRUE(made) << made.error().message();
  EXPECT_EQ(made->hdr.version, 0x020c);
  EXPECT_EQ(made->hdr.init_size, 0x2000000u);
  EXPECT_EQ(made->hdr.pref_address, 0x1000000u);
  EXPECT_EQ(made->hdr.loadflags, LOADED_HIGH | QUIET_FLAG);
  EXPECT_EQ(made->hdr.type_of_loader, kTypeOfLoader);
  EXPECT_EQ(made->hdr.cmd_line_ptr, layout::kCommandLineAddress);
  EXPECT_EQ(made->hdr.ramdisk_image, 0u);

  input.command_line_size = 256;
  auto too_long = make_boot_params(input);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message().find("this kernel's 255"), std::string::npos);
}

TEST(BootParamsTest, RefusesBadInputs) {
  BootParamsInput input;
  input.memory_size = layout::kMinMemory - 4096;
  EXPECT_FALSE(make_boot_params(input));
  input.memory_size = kMemorySize;
  input.command_line_size = layout::kCommandLineMaxSize;
  EXPECT_FALSE(make_boot_params(input));
  input.command_line_size = 0;
  input.initrd = InitrdPlacement{kMemorySize - 4096, 8192};
  EXPECT_FALSE(make_boot_params(input)) << "initrd past the end of RAM";
  input.initrd = InitrdPlacement{std::numeric_limits<uint64_t>::max() - 10, 100};
  EXPECT_FALSE(make_boot_params(input)) << "initrd end overflows";
  input.initrd = InitrdPlacement{layout::kZeroPageAddress, 100};
  EXPECT_FALSE(make_boot_params(input)) << "initrd in low memory";
}

TEST(BootParamsTest, WritesTheZeroPage) {
  GuestMemory memory = allocate();
  BootParamsInput input;
  input.memory_size = kMemorySize;
  input.command_line_size = 5;
  ASSERT_TRUE(write_boot_params(memory, input));
  auto params = memory.read_object<boot_params>(layout::kZeroPageAddress);
  ASSERT_TRUE(params);
  EXPECT_EQ(params->hdr.header, kHeaderMagic);
  EXPECT_EQ(params->e820_entries, 3);
  EXPECT_EQ(params->e820_table[2].addr + params->e820_table[2].size, kMemorySize);

  input.memory_size = kMemorySize * 2;
  auto bigger = write_boot_params(memory, input);
  ASSERT_FALSE(bigger);
  EXPECT_NE(bigger.error().message().find("more than the guest's"), std::string::npos);
}

}  // namespace
}  // namespace podrt::vmm
