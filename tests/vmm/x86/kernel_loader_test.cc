#include "stage1-kvm/x86/kernel_loader.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <limits>
#include <vector>

#include "common/guest_kernel_path.h"
#include "stage1-kvm/vmm/mapped_file.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace kernel_loader;

constexpr uint64_t kMemorySize = 32ull << 20;
constexpr uint64_t kKernelAddress = 16ull << 20;  // where a real vmlinux's startup_64 goes
constexpr uint64_t kPayloadOffset = 0x1000;

GuestMemory allocate(uint64_t size = kMemorySize) {
  auto memory = GuestMemory::allocate(size);
  EXPECT_TRUE(memory) << memory.error().message();
  return std::move(memory).value();
}

uint8_t pattern(uint64_t offset) { return static_cast<uint8_t>((offset * 7) ^ 0x5a); }

// ---- ELF64 images ----

Elf64_Phdr segment(uint64_t offset, uint64_t file_size, uint64_t address, uint64_t memory_size,
                   uint32_t type = PT_LOAD) {
  Elf64_Phdr header{};
  header.p_type = type;
  header.p_offset = offset;
  header.p_filesz = file_size;
  header.p_vaddr = 0xffffffff80000000ull + address;  // virtual addresses are never used
  header.p_paddr = address;
  header.p_memsz = memory_size;
  header.p_align = 0x1000;
  return header;
}

struct ElfImage {
  Elf64_Ehdr header{};
  std::vector<Elf64_Phdr> segments;
  uint64_t file_size = 0;

  /// A text segment, a NOTE and a data segment with bss, like a vmlinux in small.
  static ElfImage vmlinux_like() {
    ElfImage image;
    std::memcpy(image.header.e_ident, ELFMAG, SELFMAG);
    image.header.e_ident[EI_CLASS] = ELFCLASS64;
    image.header.e_ident[EI_DATA] = ELFDATA2LSB;
    image.header.e_ident[EI_VERSION] = EV_CURRENT;
    image.header.e_type = ET_EXEC;
    image.header.e_machine = EM_X86_64;
    image.header.e_version = EV_CURRENT;
    image.header.e_entry = kKernelAddress;
    image.header.e_phoff = sizeof(Elf64_Ehdr);
    image.header.e_ehsize = sizeof(Elf64_Ehdr);
    image.header.e_phentsize = sizeof(Elf64_Phdr);
    image.segments = {segment(kPayloadOffset, 0x2000, kKernelAddress, 0x2000),
                      segment(kPayloadOffset + 0x10, 0x20, kKernelAddress + 0x10, 0x20, PT_NOTE),
                      segment(kPayloadOffset + 0x2000, 0x100, kKernelAddress + 0x4000, 0x1000)};
    image.file_size = kPayloadOffset + 0x2100;
    return image;
  }

  std::vector<uint8_t> bytes() {
    header.e_phnum = static_cast<uint16_t>(segments.size());
    std::vector<uint8_t> out(file_size);
    for (uint64_t i = kPayloadOffset; i < file_size; ++i) out[i] = pattern(i);
    std::memcpy(out.data(), &header, std::min<uint64_t>(sizeof header, file_size));
    for (size_t i = 0; i < segments.size(); ++i) {
      const uint64_t at = sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr);
      if (at + sizeof(Elf64_Phdr) <= file_size) std::memcpy(out.data() + at, &segments[i], sizeof segments[i]);
    }
    return out;
  }
};

std::string load_error(const GuestMemory& memory, const std::vector<uint8_t>& image) {
  auto loaded = load_kernel(memory, image);
  if (loaded) return "(loaded)";
  return loaded.error().message();
}

TEST(KernelLoaderTest, LoadsElfSegmentsAtTheirPhysicalAddressesAndZeroesBss) {
  GuestMemory memory = allocate();
  auto bss = *memory.slice(kKernelAddress + 0x4000, 0x1000);
  std::memset(bss.data(), 0xcc, bss.size());  // leftovers the bss must not keep

  ElfImage elf = ElfImage::vmlinux_like();
  auto loaded = load_kernel(memory, elf.bytes());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->entry, kKernelAddress);
  EXPECT_EQ(loaded->end, kKernelAddress + 0x5000);
  EXPECT_FALSE(loaded->setup_header);

  auto text = *memory.slice(kKernelAddress, 0x2000);
  for (uint64_t i = 0; i < text.size(); ++i) ASSERT_EQ(text[i], pattern(kPayloadOffset + i)) << i;
  auto data = *memory.slice(kKernelAddress + 0x4000, 0x1000);
  for (uint64_t i = 0; i < 0x100; ++i) ASSERT_EQ(data[i], pattern(kPayloadOffset + 0x2000 + i)) << i;
  for (uint64_t i = 0x100; i < data.size(); ++i) ASSERT_EQ(data[i], 0) << "bss byte " << i;
  EXPECT_EQ(*memory.read_object<uint8_t>(kKernelAddress + 0x2000), 0) << "the gap stays untouched";
}

TEST(KernelLoaderTest, RefusesWhatIsNeitherElfNorBzImage) {
  GuestMemory memory = allocate();
  EXPECT_NE(load_error(memory, {}).find("not an ELF64 vmlinux or a bzImage"), std::string::npos);
  EXPECT_NE(load_error(memory, std::vector<uint8_t>(0x1000, 0x90)).find("not an ELF64"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesTruncatedElfHeader) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.file_size = 40;
  EXPECT_NE(load_error(memory, elf.bytes()).find("ELF header truncated"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesElfOfAnotherKind) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.header.e_ident[EI_CLASS] = ELFCLASS32;
  EXPECT_NE(load_error(memory, elf.bytes()).find("not an ELF64"), std::string::npos);
  elf = ElfImage::vmlinux_like();
  elf.header.e_machine = EM_AARCH64;
  EXPECT_NE(load_error(memory, elf.bytes()).find("not x86-64"), std::string::npos);
  elf = ElfImage::vmlinux_like();
  elf.header.e_type = ET_DYN;
  EXPECT_NE(load_error(memory, elf.bytes()).find("not ET_EXEC"), std::string::npos);
  elf = ElfImage::vmlinux_like();
  elf.header.e_phentsize = 32;
  EXPECT_NE(load_error(memory, elf.bytes()).find("program header size"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesProgramHeaderTableOutsideTheFile) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  std::vector<uint8_t> image = elf.bytes();
  for (uint64_t phoff : {elf.file_size - 10, elf.file_size + 0x1000, std::numeric_limits<uint64_t>::max() - 8}) {
    std::memcpy(image.data() + offsetof(Elf64_Ehdr, e_phoff), &phoff, sizeof phoff);
    EXPECT_NE(load_error(memory, image).find("program headers at"), std::string::npos) << phoff;
  }
}

TEST(KernelLoaderTest, RefusesTooManyOrNoProgramHeaders) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments.resize(kMaxProgramHeaders + 1, segment(kPayloadOffset, 0, kKernelAddress, 0, PT_NULL));
  elf.file_size = sizeof(Elf64_Ehdr) + elf.segments.size() * sizeof(Elf64_Phdr) + kPayloadOffset;
  EXPECT_NE(load_error(memory, elf.bytes()).find("program header count 65"), std::string::npos);
  elf = ElfImage::vmlinux_like();
  elf.segments.clear();
  EXPECT_NE(load_error(memory, elf.bytes()).find("program header count 0"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesSegmentBeyondGuestMemory) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments[2] = segment(kPayloadOffset, 0x100, kMemorySize - 0x800, 0x1000);
  EXPECT_NE(load_error(memory, elf.bytes()).find("outside guest memory"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesSegmentWhoseEndOverflows) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments[2] = segment(kPayloadOffset, 0x100, 0xfffffffffffff000ull, 0x2000);
  EXPECT_NE(load_error(memory, elf.bytes()).find("outside guest memory"), std::string::npos);
  elf.segments[2] = segment(kPayloadOffset, 0x100, kKernelAddress, std::numeric_limits<uint64_t>::max());
  EXPECT_NE(load_error(memory, elf.bytes()).find("outside guest memory"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesSegmentBelowTheLegacyHole) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments[2] = segment(kPayloadOffset, 0x100, layout::kZeroPageAddress, 0x1000);
  EXPECT_NE(load_error(memory, elf.bytes()).find("is below 0x100000"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesFileSizeAboveMemorySize) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments[2] = segment(kPayloadOffset, 0x100, kKernelAddress + 0x4000, 0xff);
  EXPECT_NE(load_error(memory, elf.bytes()).find("exceeds its memory size"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesSegmentFileRangeOutsideTheFile) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments[2] = segment(elf.file_size - 0x10, 0x100, kKernelAddress + 0x4000, 0x1000);
  EXPECT_NE(load_error(memory, elf.bytes()).find("outside the image"), std::string::npos);
  elf.segments[2] = segment(std::numeric_limits<uint64_t>::max() - 0x10, 0x100, kKernelAddress + 0x4000, 0x1000);
  EXPECT_NE(load_error(memory, elf.bytes()).find("outside the image"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesEntryOutsideTheLoadedSegments) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.header.e_entry = kKernelAddress + 0x3000;  // the gap between text and data
  EXPECT_NE(load_error(memory, elf.bytes()).find("entry 0x1003000"), std::string::npos);
  elf.header.e_entry = kKernelAddress + 0x4100;  // data's bss: nothing loaded there
  EXPECT_NE(load_error(memory, elf.bytes()).find("not inside a loaded segment"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesElfWithoutLoadableSegments) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments = {segment(kPayloadOffset, 0x10, kKernelAddress, 0x10, PT_NOTE),
                  segment(kPayloadOffset, 0, kKernelAddress, 0)};
  EXPECT_NE(load_error(memory, elf.bytes()).find("no PT_LOAD segment"), std::string::npos);
}

TEST(KernelLoaderTest, BadSegmentLeavesGuestMemoryUntouched) {
  GuestMemory memory = allocate();
  ElfImage elf = ElfImage::vmlinux_like();
  elf.segments[2] = segment(kPayloadOffset, 0x100, kMemorySize, 0x1000);
  ASSERT_FALSE(load_kernel(memory, elf.bytes()));
  auto text = *memory.slice(kKernelAddress, 0x2000);
  EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](uint8_t b) { return b == 0; }))
      << "the good first segment was copied before the bad one was seen";
}

// ---- bzImages ----

struct BzImage {
  ::setup_header header{};
  uint64_t setup_sectors = 1;  // real ones in the file, whatever header.setup_sects says
  uint64_t kernel_size = 0x1000;
  /// One past the header's declared end (0x202 + its jump's offset byte).
  uint64_t header_end = kSetupHeaderOffset + sizeof(::setup_header);
  uint64_t truncate_to = 0;

  static BzImage relocatable() {
    BzImage image;
    ::setup_header& h = image.header;
    h.setup_sects = 1;
    h.boot_flag = 0xaa55;
    h.header = kHeaderMagic;
    h.version = 0x020f;
    h.loadflags = LOADED_HIGH;
    h.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
    h.relocatable_kernel = 1;
    h.kernel_alignment = 0x200000;
    h.pref_address = kKernelAddress;
    h.init_size = 0x400000;
    h.initrd_addr_max = 0x7fffffff;
    h.cmdline_size = 2047;
    return image;
  }

  uint64_t kernel_offset() const { return (setup_sectors + 1) * kSectorSize; }

  std::vector<uint8_t> bytes() {
    header.jump = static_cast<uint16_t>(0xeb | ((header_end - kHeaderMagicOffset) << 8));
    std::vector<uint8_t> out(kernel_offset() + kernel_size, 0);
    for (uint64_t i = kernel_offset(); i < out.size(); ++i) out[i] = pattern(i);
    std::memcpy(out.data() + kSetupHeaderOffset, &header, sizeof header);
    if (truncate_to != 0) out.resize(truncate_to);
    return out;
  }
};

TEST(KernelLoaderTest, LoadsRelocatableBzImageAtItsPreferredAddress) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  auto loaded = load_kernel(memory, bz.bytes());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->entry, kKernelAddress + kEntry64Offset);
  EXPECT_EQ(loaded->end, kKernelAddress + 0x400000) << "init_size beyond the image counts";
  ASSERT_TRUE(loaded->setup_header);
  EXPECT_EQ(loaded->setup_header->version, 0x020f);
  EXPECT_EQ(loaded->setup_header->init_size, 0x400000u);
  auto kernel = *memory.slice(kKernelAddress, bz.kernel_size);
  for (uint64_t i = 0; i < kernel.size(); ++i) ASSERT_EQ(kernel[i], pattern(bz.kernel_offset() + i)) << i;
}

TEST(KernelLoaderTest, LoadsFixedBzImageAtOneMiB) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.relocatable_kernel = 0;
  auto loaded = load_kernel(memory, bz.bytes());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->entry, layout::kBzImageLoadAddress + kEntry64Offset);
  EXPECT_EQ(loaded->end, kKernelAddress + 0x400000) << "it moves itself to pref_address";
  EXPECT_EQ(*memory.read_object<uint8_t>(layout::kBzImageLoadAddress), pattern(bz.kernel_offset()));
}

TEST(KernelLoaderTest, RelocatableBzImageWithoutPreferredAddressRunsAligned) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.pref_address = 0;
  auto loaded = load_kernel(memory, bz.bytes());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->entry, layout::kBzImageLoadAddress + kEntry64Offset);
  EXPECT_EQ(loaded->end, 0x200000u + 0x400000u) << "1 MiB rounded up to kernel_alignment";
}

TEST(KernelLoaderTest, ZeroSetupSectsMeansFour) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.setup_sects = 0;
  bz.setup_sectors = kDefaultSetupSects;
  auto loaded = load_kernel(memory, bz.bytes());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*memory.read_object<uint8_t>(kKernelAddress), pattern(5 * kSectorSize));
}

TEST(KernelLoaderTest, SetupHeaderBytesPastItsDeclaredLengthAreZero) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.handover_offset = 0x1234;  // past the declared end: not part of this header
  bz.header_end = offsetof(::setup_header, init_size) + kSetupHeaderOffset + 4;
  auto loaded = load_kernel(memory, bz.bytes());
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->setup_header->init_size, 0x400000u);
  EXPECT_EQ(loaded->setup_header->handover_offset, 0u);
}

TEST(KernelLoaderTest, RefusesBzImageWithOldProtocol) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.version = 0x0206;
  EXPECT_NE(load_error(memory, bz.bytes()).find("boot protocol 2.06 is older than 2.12"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesBzImageWithout64BitEntry) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
  EXPECT_NE(load_error(memory, bz.bytes()).find("XLF_KERNEL_64"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesBzImageNotLoadedHigh) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.loadflags = 0;
  EXPECT_NE(load_error(memory, bz.bytes()).find("LOADED_HIGH"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesSetupSectorsBeyondTheFile) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.setup_sects = 200;
  EXPECT_NE(load_error(memory, bz.bytes()).find("200 setup sectors reach past"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesTruncatedOrShortSetupHeader) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.truncate_to = kHeaderMagicOffset + 8;
  EXPECT_NE(load_error(memory, bz.bytes()).find("past the end of the image (522 bytes)"), std::string::npos);
  bz = BzImage::relocatable();
  bz.header_end = kHeaderMagicOffset + 0x20;  // stops before init_size
  EXPECT_NE(load_error(memory, bz.bytes()).find("too short for boot protocol 2.15"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesBzImageWhoseKernelHasNo64BitEntry) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.kernel_size = kEntry64Offset;
  EXPECT_NE(load_error(memory, bz.bytes()).find("has no 64-bit entry"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesBzImageNeedingMoreThanGuestMemory) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.init_size = kMemorySize;
  EXPECT_NE(load_error(memory, bz.bytes()).find("(init_size)"), std::string::npos);
  bz = BzImage::relocatable();
  bz.header.relocatable_kernel = 0;
  bz.header.pref_address = std::numeric_limits<uint64_t>::max() - 0x1000;
  EXPECT_NE(load_error(memory, bz.bytes()).find("beyond guest memory"), std::string::npos);
}

TEST(KernelLoaderTest, RefusesBzImageWithBadAlignment) {
  GuestMemory memory = allocate();
  BzImage bz = BzImage::relocatable();
  bz.header.kernel_alignment = 0x300000;
  EXPECT_NE(load_error(memory, bz.bytes()).find("not a power of two"), std::string::npos);
  bz.header.kernel_alignment = 0;
  EXPECT_NE(load_error(memory, bz.bytes()).find("not a power of two"), std::string::npos);
}

TEST(KernelLoaderTest, InitrdLimitComesFromTheSetupHeader) {
  LoadedKernel vmlinux;
  EXPECT_EQ(initrd_address_limit(vmlinux), layout::kMaxMemory - 1);
  LoadedKernel bz;
  bz.setup_header = BzImage::relocatable().header;
  EXPECT_EQ(initrd_address_limit(bz), layout::kMaxMemory - 1) << "XLF_CAN_BE_LOADED_ABOVE_4G";
  bz.setup_header->xloadflags = XLF_KERNEL_64;
  EXPECT_EQ(initrd_address_limit(bz), 0x7fffffffu);
}

// ---- the real guest kernel ----

TEST(KernelLoaderTest, LoadsTheGuestVmlinux) {
  const std::string path = guest_kernel_path();
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    GTEST_SKIP() << "no guest kernel at " << path << " (set PODRT_GUEST_KERNEL); not covered: loading a real vmlinux";
  auto file = MappedFile::open(path, 256ull << 20);
  ASSERT_TRUE(file) << file.error().message();
  const std::span<const uint8_t> image = file->bytes();
  GuestMemory memory = allocate(128ull << 20);
  auto loaded = load_kernel(memory, image);
  ASSERT_TRUE(loaded) << loaded.error().message();

  Elf64_Ehdr header;
  std::memcpy(&header, image.data(), sizeof header);
  EXPECT_EQ(loaded->entry, header.e_entry);
  EXPECT_FALSE(loaded->setup_header);
  // e_entry is startup_64's physical address: inside the first (text) segment, whose bytes are
  // now there in guest memory.
  Elf64_Phdr text;
  std::memcpy(&text, image.data() + header.e_phoff, sizeof text);
  ASSERT_EQ(text.p_type, uint32_t{PT_LOAD});
  ASSERT_GE(loaded->entry, text.p_paddr);
  ASSERT_LT(loaded->entry - text.p_paddr, text.p_filesz);
  EXPECT_GE(loaded->entry, layout::kHighRamStart);
  EXPECT_GT(loaded->end, loaded->entry);
  EXPECT_LE(loaded->end, memory.size());
  std::vector<uint8_t> at_entry(64);
  ASSERT_TRUE(memory.read(loaded->entry, at_entry));
  EXPECT_EQ(0, std::memcmp(at_entry.data(), image.data() + text.p_offset + (loaded->entry - text.p_paddr), 64));
}

}  // namespace
}  // namespace podrt::vmm
