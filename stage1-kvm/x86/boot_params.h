// What Linux's 64-bit boot protocol reads before it looks at anything else (Documentation/arch/
// x86/boot.rst, zero-page.rst): the initrd at the top of RAM, the command line at
// layout::kCommandLineAddress and struct boot_params (the "zero page") at
// layout::kZeroPageAddress, with the e820 memory map of this machine:
//   [0, kLowRamEnd)               RAM
//   [kLowRamEnd, kHighRamStart)   reserved: the EBDA (MP table at kMpTableAddress), VGA, BIOS
//   [kHighRamStart, memory size)  RAM
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm {

namespace boot_params_values {

inline constexpr uint16_t kBootFlag = 0xaa55;
inline constexpr uint32_t kHeaderMagic = 0x53726448;  ///< "HdrS"
/// The protocol a vmlinux's fresh header claims: Linux reads setup_data only from 2.09 and
/// changes its PCI scanning below it; 2.15 is the current one.
inline constexpr uint16_t kProtocolVersion = 0x020f;
/// "Undefined" boot loader: boot.rst's type for a loader without an assigned id.
inline constexpr uint8_t kTypeOfLoader = 0xff;
inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;
inline constexpr uint64_t kInitrdAlignment = 4096;

}  // namespace boot_params_values

/// Fails unless layout::kMinMemory <= size <= layout::kMaxMemory and size is a whole number of
/// 4 KiB pages.
Result<void> validate_memory_size(uint64_t size);

struct InitrdPlacement {
  uint64_t address = 0;
  uint64_t size = 0;
};

/// Puts `initrd` (GuestMemory::load: mapped from its file where it has one) at the highest
/// page-aligned address where it ends at or below `initrd_addr_max` (the address of its last
/// byte, as in the setup header) and inside guest memory, above `kernel_end` and the legacy
/// hole. Fails for an empty initrd or one that does not fit, naming both sizes.
Result<InitrdPlacement> load_initrd(const GuestMemory& memory, const FileBytes& initrd,
                                    uint64_t kernel_end, uint64_t initrd_addr_max);

/// Writes the command line and its NUL at layout::kCommandLineAddress. Fails for one longer than
/// layout::kCommandLineMaxSize - 1 bytes or with a NUL inside.
Result<void> write_command_line(const GuestMemory& memory, std::string_view command_line);

struct BootParamsInput {
  /// RAM from guest-physical 0, as validate_memory_size allows.
  uint64_t memory_size = 0;
  /// The command line's length, NUL not counted (write_command_line wrote it).
  uint64_t command_line_size = 0;
  /// A bzImage's header (LoadedKernel::setup_header); none for a vmlinux.
  std::optional<::setup_header> setup_header;
  std::optional<InitrdPlacement> initrd;
};

/// The e820 table for `memory_size` bytes of RAM (see the top of this file).
std::vector<boot_e820_entry> make_e820_table(uint64_t memory_size);

/// The zero page: the bzImage's setup header or a fresh one, with this loader's fields, the
/// command line, initrd and e820 table filled in. Fails for a bad memory size, a command line
/// longer than the kernel's cmdline_size, or an initrd outside the memory size.
Result<boot_params> make_boot_params(const BootParamsInput& input);

/// make_boot_params written at layout::kZeroPageAddress. Fails also when the memory size is
/// more than `memory` holds.
Result<void> write_boot_params(const GuestMemory& memory, const BootParamsInput& input);

}  // namespace podrt::vmm
