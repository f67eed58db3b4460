// GuestMemory::load: whole pages that share their alignment in file and guest are mapped from
// the file copy-on-write, the rest is copied; a write by the guest never reaches the file, and
// a range outside the file or the guest is refused with guest memory left as it was.
#include "stage1-kvm/memory/guest_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/unique_fd.h"
#include "tests/support/command_runner.h"

namespace podrt::vmm {
namespace {

constexpr uint64_t kPage = 4096;

struct TestFile {
  std::string path;
  std::vector<uint8_t> bytes;
  UniqueFd fd;
};

// A file of `size` patterned bytes (no two neighbouring pages alike), opened read-only.
TestFile make_file(const testing::TempDir& dir, size_t size) {
  TestFile file{dir.path() + "/image", std::vector<uint8_t>(size), UniqueFd()};
  for (size_t i = 0; i < size; ++i) file.bytes[i] = static_cast<uint8_t>(i * 7 + i / kPage);
  std::ofstream(file.path, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.bytes.data()), static_cast<std::streamsize>(size));
  file.fd = UniqueFd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  return file;
}

// The bytes of guest memory that /proc/self/maps shows mapped from `path`.
uint64_t bytes_mapped_from(const GuestMemory& memory, const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  uint64_t total = 0;
  auto base = reinterpret_cast<uintptr_t>(memory.host_base());
  for (std::string line; std::getline(maps, line);) {
    std::istringstream fields(line);
    std::string range, perms, offset, device, inode, name;
    fields >> range >> perms >> offset >> device >> inode >> name;
    uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    uint64_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    if (name == path && start >= base && end <= base + memory.size()) total += end - start;
  }
  return total;
}

std::vector<uint8_t> guest_bytes(const GuestMemory& memory, uint64_t address, uint64_t length) {
  std::vector<uint8_t> out(length);
  EXPECT_TRUE(memory.read(address, out));
  return out;
}

TEST(GuestMemoryLoad, MapsTheWholePagesAndCopiesTheHeadAndTail) {
  testing::TempDir dir;
  TestFile file = make_file(dir, 5 * kPage);
  auto memory = GuestMemory::allocate(64 * kPage);
  ASSERT_TRUE(memory);
  // From file offset 0x100, 3 pages and 0x200 bytes, to guest 0x10100: the same alignment, so
  // [0x11000, 0x13000) is mapped and the head (0xf00 bytes) and tail (0x300) are copied.
  const uint64_t address = 16 * kPage + 0x100, offset = 0x100, length = 3 * kPage + 0x200;
  ASSERT_TRUE(memory->load(address, FileBytes(file.bytes, file.fd.get()), offset, length));
  EXPECT_EQ(bytes_mapped_from(*memory, file.path), 2 * kPage);
  std::vector<uint8_t> expected(file.bytes.begin() + offset, file.bytes.begin() + offset + length);
  EXPECT_EQ(guest_bytes(*memory, address, length), expected);
  EXPECT_EQ(guest_bytes(*memory, address - 1, 1), std::vector<uint8_t>{0}) << "before the range";
  EXPECT_EQ(guest_bytes(*memory, address + length, 1), std::vector<uint8_t>{0}) << "after the range";

  // A write lands in guest memory, not in the file.
  const std::vector<uint8_t> ones(kPage, 1);
  ASSERT_TRUE(memory->write(17 * kPage, ones));
  EXPECT_EQ(guest_bytes(*memory, 17 * kPage, kPage), ones);
  std::vector<uint8_t> on_disk(file.bytes.size());
  ASSERT_EQ(::pread(file.fd.get(), on_disk.data(), on_disk.size(), 0), static_cast<ssize_t>(on_disk.size()));
  EXPECT_EQ(on_disk, file.bytes);
}

TEST(GuestMemoryLoad, CopiesWhenTheAlignmentsDifferOrThereIsNoFile) {
  testing::TempDir dir;
  TestFile file = make_file(dir, 4 * kPage);
  auto memory = GuestMemory::allocate(64 * kPage);
  ASSERT_TRUE(memory);
  ASSERT_TRUE(memory->load(8 * kPage + 1, FileBytes(file.bytes, file.fd.get()), 0, 3 * kPage));
  ASSERT_TRUE(memory->load(32 * kPage, FileBytes(file.bytes), 0, 3 * kPage));
  EXPECT_EQ(bytes_mapped_from(*memory, file.path), 0u);
  std::vector<uint8_t> expected(file.bytes.begin(), file.bytes.begin() + 3 * kPage);
  EXPECT_EQ(guest_bytes(*memory, 8 * kPage + 1, 3 * kPage), expected);
  EXPECT_EQ(guest_bytes(*memory, 32 * kPage, 3 * kPage), expected);
}

TEST(GuestMemoryLoad, RefusesRangesOutsideTheFileOrTheGuestAndLeavesMemoryAsItWas) {
  testing::TempDir dir;
  TestFile file = make_file(dir, 4 * kPage);
  auto memory = GuestMemory::allocate(16 * kPage);
  ASSERT_TRUE(memory);
  FileBytes bytes(file.bytes, file.fd.get());
  EXPECT_FALSE(memory->load(0, bytes, kPage, 4 * kPage)) << "past the file's end";
  EXPECT_FALSE(memory->load(0, bytes, ~uint64_t{0}, 2)) << "offset overflow";
  EXPECT_FALSE(memory->load(14 * kPage, bytes, 0, 4 * kPage)) << "past the guest's end";
  EXPECT_FALSE(memory->load(~uint64_t{0} - kPage + 1, bytes, 0, 2 * kPage)) << "address overflow";
  // A view that claims more than the file holds must not map pages past its end (SIGBUS).
  std::vector<uint8_t> larger(8 * kPage, 9);
  auto refused = memory->load(0, FileBytes(larger, file.fd.get()), 0, 8 * kPage);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("fewer than its mapped view"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(bytes_mapped_from(*memory, file.path), 0u);
  EXPECT_EQ(guest_bytes(*memory, 0, 16 * kPage), std::vector<uint8_t>(16 * kPage, 0));
}

}  // namespace
}  // namespace podrt::vmm
