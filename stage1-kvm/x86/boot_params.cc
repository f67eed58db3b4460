#include "stage1-kvm/x86/boot_params.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "stage1-kvm/memory/hex.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {
namespace {

using namespace boot_params_values;

std::string mib(uint64_t size) { return std::to_string(size >> 20) + " MiB"; }

constexpr uint64_t align_down(uint64_t value, uint64_t alignment) { return value & ~(alignment - 1); }

}  // namespace

Result<void> validate_memory_size(uint64_t size) {
  if (size < layout::kMinMemory || size > layout::kMaxMemory)
    return Error::invalid("memory size " + hex(size) + " is outside " + mib(layout::kMinMemory) + ".." +
                          mib(layout::kMaxMemory) + " (RAM must end below the MMIO window at " +
                          hex(layout::kMmioStart) + ")");
  if (size % 4096 != 0) return Error::invalid("memory size " + hex(size) + " is not a whole number of pages");
  return ok();
}

Result<InitrdPlacement> load_initrd(const GuestMemory& memory, const FileBytes& file,
                                    uint64_t kernel_end, uint64_t initrd_addr_max) {
  std::span<const uint8_t> initrd = file.bytes;
  if (initrd.empty()) return Error::invalid("initrd is empty");
  // [lowest, top): where the initrd may go; top is one past its highest possible last byte.
  const uint64_t top = initrd_addr_max >= memory.size() ? memory.size() : initrd_addr_max + 1;
  const uint64_t lowest = std::max(kernel_end, layout::kHighRamStart);
  const uint64_t free = top > lowest ? top - lowest : 0;
  const std::string too_big = "initrd of " + std::to_string(initrd.size()) + " bytes does not fit in the " +
                              std::to_string(free) + " bytes free between " + hex(lowest) + " and " +
                              hex(top);
  if (initrd.size() > free) return Error::invalid(too_big);
  const uint64_t address = align_down(top - initrd.size(), kInitrdAlignment);
  if (address < lowest) return Error::invalid(too_big);
  PODRT_TRY(memory.load(address, file, 0, initrd.size()));
  return InitrdPlacement{address, initrd.size()};
}

Result<void> write_command_line(const GuestMemory& memory, std::string_view command_line) {
  if (command_line.size() > layout::kCommandLineMaxSize - 1)
    return Error::invalid("kernel command line of " + std::to_string(command_line.size()) +
                          " bytes is longer than " + std::to_string(layout::kCommandLineMaxSize - 1));
  if (command_line.find('\0') != std::string_view::npos)
    return Error::invalid("kernel command line contains a NUL byte");
  auto target = PODRT_TRY(memory.slice(layout::kCommandLineAddress, command_line.size() + 1));
  std::copy(command_line.begin(), command_line.end(), target.begin());
  target.back() = 0;
  return ok();
}

std::vector<boot_e820_entry> make_e820_table(uint64_t memory_size) {
  std::vector<boot_e820_entry> table;
  table.push_back({0, layout::kLowRamEnd, kE820Ram});
  table.push_back({layout::kLowRamEnd, layout::kHighRamStart - layout::kLowRamEnd, kE820Reserved});
  if (memory_size > layout::kHighRamStart)
    table.push_back({layout::kHighRamStart, memory_size - layout::kHighRamStart, kE820Ram});
  return table;
}

Result<boot_params> make_boot_params(const BootParamsInput& input) {
  PODRT_TRY(validate_memory_size(input.memory_size));
  if (input.command_line_size > layout::kCommandLineMaxSize - 1)
    return Error::invalid("kernel command line of " + std::to_string(input.command_line_size) +
                          " bytes is longer than " + std::to_string(layout::kCommandLineMaxSize - 1));

  // Only the setup header comes from the image, into an otherwise clean page (boot.rst): the
  // sentinel stays 0, so the kernel trusts every field.
  boot_params params{};
  if (input.setup_header) {
    params.hdr = *input.setup_header;
    if (params.hdr.cmdline_size != 0 && input.command_line_size > params.hdr.cmdline_size)
      return Error::invalid("kernel command line of " + std::to_string(input.command_line_size) +
                            " bytes is longer than this kernel's " + std::to_string(params.hdr.cmdline_size));
  } else {
    params.hdr.boot_flag = kBootFlag;
    params.hdr.header = kHeaderMagic;
    params.hdr.version = kProtocolVersion;
    params.hdr.cmdline_size = layout::kCommandLineMaxSize - 1;
  }
  params.hdr.type_of_loader = kTypeOfLoader;
  // The kernel sits above 1 MiB. CAN_USE_HEAP is for the 16-bit setup code's heap, which the
  // 64-bit protocol never runs.
  params.hdr.loadflags |= LOADED_HIGH;
  params.hdr.cmd_line_ptr = static_cast<uint32_t>(layout::kCommandLineAddress);
  params.ext_cmd_line_ptr = static_cast<uint32_t>(layout::kCommandLineAddress >> 32);

  if (input.initrd) {
    const InitrdPlacement& initrd = *input.initrd;
    if (initrd.address < layout::kHighRamStart || initrd.address > input.memory_size ||
        initrd.size > input.memory_size - initrd.address)
      return Error::invalid("initrd at " + hex(initrd.address) + "+" + hex(initrd.size) +
                            " is outside RAM of " + hex(input.memory_size) + " bytes");
    params.hdr.ramdisk_image = static_cast<uint32_t>(initrd.address);
    params.ext_ramdisk_image = static_cast<uint32_t>(initrd.address >> 32);
    params.hdr.ramdisk_size = static_cast<uint32_t>(initrd.size);
    params.ext_ramdisk_size = static_cast<uint32_t>(initrd.size >> 32);
  } else {
    params.hdr.ramdisk_image = params.hdr.ramdisk_size = 0;
  }

  const std::vector<boot_e820_entry> e820 = make_e820_table(input.memory_size);
  std::copy(e820.begin(), e820.end(), params.e820_table);
  params.e820_entries = static_cast<uint8_t>(e820.size());
  return params;
}

Result<void> write_boot_params(const GuestMemory& memory, const BootParamsInput& input) {
  if (input.memory_size > memory.size())
    return Error::invalid("memory size " + hex(input.memory_size) + " is more than the guest's " +
                          hex(memory.size()) + " bytes");
  const boot_params params = PODRT_TRY(make_boot_params(input));
  return memory.write_object(layout::kZeroPageAddress, params);
}

}  // namespace podrt::vmm
