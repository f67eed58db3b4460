#include "stage1-kvm/x86/kernel_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "stage1-kvm/memory/hex.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace kernel_loader;

std::string bytes(uint64_t count) { return std::to_string(count) + " bytes"; }

/// A T copied out of image[offset..], or nothing when it does not fit (no alignment needed).
template <class T>
std::optional<T> read_at(std::span<const uint8_t> image, uint64_t offset) {
  if (offset > image.size() || sizeof(T) > image.size() - offset) return std::nullopt;
  T value;
  std::memcpy(&value, image.data() + offset, sizeof value);
  return value;
}

bool has_elf_magic(std::span<const uint8_t> image) {
  return image.size() >= SELFMAG && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0;
}

bool has_bzimage_magic(std::span<const uint8_t> image) {
  return read_at<uint32_t>(image, kHeaderMagicOffset) == kHeaderMagic;
}

/// A PT_LOAD segment, checked: its file bytes lie inside the image and its memory inside the
/// guest's, above the legacy hole.
struct Segment {
  uint64_t file_offset;
  uint64_t file_size;
  uint64_t address;
  uint64_t memory_size;
};

Result<Segment> check_segment(const GuestMemory& memory, std::span<const uint8_t> image,
                              const Elf64_Phdr& header, size_t index) {
  const std::string name = "segment " + std::to_string(index);
  if (header.p_filesz > header.p_memsz)
    return Error::invalid(name + ": file size " + hex(header.p_filesz) + " exceeds its memory size " +
                          hex(header.p_memsz));
  if (header.p_offset > image.size() || header.p_filesz > image.size() - header.p_offset)
    return Error::invalid(name + ": file range " + hex(header.p_offset) + "+" + hex(header.p_filesz) +
                          " is outside the image (" + bytes(image.size()) + ")");
  if (header.p_paddr < layout::kHighRamStart)
    return Error::invalid(name + ": physical address " + hex(header.p_paddr) + " is below " +
                          hex(layout::kHighRamStart));
  if (!memory.contains(header.p_paddr, header.p_memsz))
    return Error::invalid(name + ": " + hex(header.p_paddr) + "+" + hex(header.p_memsz) +
                          " is outside guest memory (" + bytes(memory.size()) + ")");
  return Segment{header.p_offset, header.p_filesz, header.p_paddr, header.p_memsz};
}

Result<LoadedKernel> load_elf(const GuestMemory& memory, const FileBytes& file) {
  std::span<const uint8_t> image = file.bytes;
  auto header = read_at<Elf64_Ehdr>(image, 0);
  if (!header) return Error::invalid("ELF header truncated: the image has " + bytes(image.size()));
  if (header->e_ident[EI_CLASS] != ELFCLASS64) return Error::invalid("not an ELF64 image");
  if (header->e_ident[EI_DATA] != ELFDATA2LSB) return Error::invalid("not a little-endian ELF image");
  if (header->e_machine != EM_X86_64)
    return Error::invalid("ELF machine " + std::to_string(header->e_machine) + " is not x86-64");
  if (header->e_type != ET_EXEC)
    return Error::invalid("ELF type " + std::to_string(header->e_type) + " is not ET_EXEC (a vmlinux)");
  if (header->e_phentsize != sizeof(Elf64_Phdr))
    return Error::invalid("ELF program header size " + std::to_string(header->e_phentsize) + " is not " +
                          std::to_string(sizeof(Elf64_Phdr)));
  if (header->e_phnum == 0 || header->e_phnum > kMaxProgramHeaders)
    return Error::invalid("ELF program header count " + std::to_string(header->e_phnum) + " is not 1.." +
                          std::to_string(kMaxProgramHeaders));
  const uint64_t table_size = uint64_t{header->e_phnum} * sizeof(Elf64_Phdr);
  if (header->e_phoff > image.size() || table_size > image.size() - header->e_phoff)
    return Error::invalid("ELF program headers at " + hex(header->e_phoff) + "+" + hex(table_size) +
                          " are outside the image (" + bytes(image.size()) + ")");

  // Check every segment before copying any, so a bad image leaves guest memory as it was.
  std::vector<Segment> segments;
  uint64_t end = 0;
  for (size_t i = 0; i < header->e_phnum; ++i) {
    Elf64_Phdr program_header = *read_at<Elf64_Phdr>(image, header->e_phoff + i * sizeof(Elf64_Phdr));
    if (program_header.p_type != PT_LOAD) continue;
    Segment segment = PODRT_TRY(check_segment(memory, image, program_header, i));
    if (segment.memory_size == 0) continue;
    segments.push_back(segment);
    end = std::max(end, segment.address + segment.memory_size);
  }
  if (segments.empty()) return Error::invalid("ELF image has no PT_LOAD segment to load");
  const uint64_t entry = header->e_entry;
  const bool entry_loaded = std::any_of(segments.begin(), segments.end(), [entry](const Segment& s) {
    return entry >= s.address && entry - s.address < s.file_size;
  });
  if (!entry_loaded)
    return Error::invalid("ELF entry " + hex(entry) + " is not inside a loaded segment");

  for (const Segment& segment : segments) {
    PODRT_TRY(memory.load(segment.address, file, segment.file_offset, segment.file_size));
    auto bss = PODRT_TRY(memory.slice(segment.address + segment.file_size,
                                      segment.memory_size - segment.file_size));
    std::fill(bss.begin(), bss.end(), uint8_t{0});
  }
  return LoadedKernel{entry, end, std::nullopt};
}

Result<LoadedKernel> load_bzimage(const GuestMemory& memory, std::span<const uint8_t> image) {
  // The header's own length: its jump at 0x200 is a short jmp past it (boot.rst).
  const uint64_t header_end = kHeaderMagicOffset + image[kHeaderMagicOffset - 1];
  if (header_end > image.size())
    return Error::invalid("setup header ends at " + hex(header_end) + ", past the end of the image (" +
                          bytes(image.size()) + ")");
  ::setup_header header{};
  const uint64_t header_length = std::min<uint64_t>(header_end - kSetupHeaderOffset, sizeof header);
  std::memcpy(&header, image.data() + kSetupHeaderOffset, header_length);

  char version[16];
  std::snprintf(version, sizeof version, "%u.%02u", static_cast<unsigned>(header.version >> 8),
                static_cast<unsigned>(header.version & 0xffu));
  if (header.version < kMinBzImageProtocol)
    return Error::invalid(std::string("bzImage boot protocol ") + version +
                          " is older than 2.12 (no 64-bit entry point)");
  if (header_length < offsetof(::setup_header, init_size) + sizeof header.init_size)
    return Error::invalid("setup header of " + bytes(header_length) + " is too short for boot protocol " +
                          version);
  if (!(header.xloadflags & XLF_KERNEL_64))
    return Error::invalid("bzImage has no 64-bit entry point (XLF_KERNEL_64 clear)");
  if (!(header.loadflags & LOADED_HIGH))
    return Error::invalid("bzImage does not load at 1 MiB (LOADED_HIGH clear)");

  const uint64_t setup_sects = header.setup_sects == 0 ? kDefaultSetupSects : header.setup_sects;
  const uint64_t kernel_offset = (setup_sects + 1) * kSectorSize;
  if (kernel_offset >= image.size())
    return Error::invalid(std::to_string(setup_sects) + " setup sectors reach past the end of the image (" +
                          bytes(image.size()) + ")");
  const std::span<const uint8_t> kernel = image.subspan(kernel_offset);
  if (kernel.size() <= kEntry64Offset)
    return Error::invalid("protected-mode kernel of " + bytes(kernel.size()) + " has no 64-bit entry at " +
                          hex(kEntry64Offset));

  // The kernel decompresses into init_size bytes from its runtime start: the load address
  // rounded up to kernel_alignment, but never below pref_address (LOAD_PHYSICAL_ADDR), when
  // relocatable; pref_address itself when not.
  const uint64_t init_size = header.init_size;
  const bool relocatable = header.relocatable_kernel != 0;
  uint64_t load = layout::kBzImageLoadAddress;
  if (relocatable && header.pref_address >= layout::kHighRamStart &&
      memory.contains(header.pref_address, std::max<uint64_t>(kernel.size(), init_size)))
    load = header.pref_address;
  if (!memory.contains(load, kernel.size()))
    return Error::invalid("kernel of " + bytes(kernel.size()) + " at " + hex(load) +
                          " does not fit in guest memory (" + bytes(memory.size()) + ")");
  uint64_t runtime_start = std::max<uint64_t>(load, header.pref_address);
  if (relocatable) {
    const uint64_t alignment = header.kernel_alignment;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
      return Error::invalid("kernel_alignment " + hex(alignment) + " is not a power of two");
    runtime_start = std::max<uint64_t>((load + alignment - 1) & ~(alignment - 1), header.pref_address);
  }
  if (!memory.contains(runtime_start, init_size))
    return Error::invalid("kernel needs " + hex(init_size) + " bytes (init_size) at " + hex(runtime_start) +
                          ", beyond guest memory (" + bytes(memory.size()) + ")");

  PODRT_TRY(memory.write(load, kernel));
  return LoadedKernel{load + kEntry64Offset, std::max(load + kernel.size(), runtime_start + init_size),
                      header};
}

}  // namespace

Result<LoadedKernel> load_kernel(const GuestMemory& memory, const FileBytes& file) {
  std::span<const uint8_t> image = file.bytes;
  if (has_elf_magic(image)) return load_elf(memory, file);
  if (has_bzimage_magic(image)) return load_bzimage(memory, image);
  return Error::invalid("not an ELF64 vmlinux or a bzImage (" + bytes(image.size()) + ")");
}

uint64_t initrd_address_limit(const LoadedKernel& kernel) {
  if (kernel.setup_header && !(kernel.setup_header->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) &&
      kernel.setup_header->initrd_addr_max != 0)
    return kernel.setup_header->initrd_addr_max;
  return layout::kMaxMemory - 1;
}

}  // namespace podrt::vmm
