// Loading a Linux kernel image into guest memory for the x86_64 64-bit boot protocol
// (Documentation/arch/x86/boot.rst). Two formats, told apart by their magic:
//   vmlinux  an ELF64 x86-64 ET_EXEC: each PT_LOAD segment is put at its p_paddr (its whole
//            pages mapped copy-on-write from the file when it has one: GuestMemory::load), its
//            bss zeroed; e_entry is the physical address of startup_64 (the linker script puts the
//            ELF entry at phys_startup_64).
//   bzImage  "HdrS" at 0x202, boot protocol 2.12 or later (xloadflags, where XLF_KERNEL_64 says
//            the 64-bit entry exists, only appeared in 2.12), LOADED_HIGH: the protected-mode
//            kernel after the setup sectors is copied to its pref_address (when relocatable and
//            it fits) or to layout::kBzImageLoadAddress; the 64-bit entry is 0x200 past it.
//
// The image is untrusted: every offset, size and address in it is checked, overflow-safe,
// before anything is copied, so a hostile image gets a one-line error and guest memory is
// written only inside its bounds and never below layout::kHighRamStart.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm {

namespace kernel_loader {

/// More program headers than any real vmlinux has (it has about five): refused.
inline constexpr uint16_t kMaxProgramHeaders = 64;
/// Where a bzImage's setup header starts, and its "HdrS" magic.
inline constexpr uint64_t kSetupHeaderOffset = 0x1f1;
inline constexpr uint64_t kHeaderMagicOffset = 0x202;
inline constexpr uint32_t kHeaderMagic = 0x53726448;  ///< "HdrS", little-endian
/// Boot protocol 2.12: the first with xloadflags (XLF_KERNEL_64).
inline constexpr uint16_t kMinBzImageProtocol = 0x020c;
/// setup_sects == 0 means this many (boot.rst).
inline constexpr uint8_t kDefaultSetupSects = 4;
inline constexpr uint64_t kSectorSize = 512;
/// The 64-bit entry's offset in the protected-mode kernel.
inline constexpr uint64_t kEntry64Offset = 0x200;

}  // namespace kernel_loader

struct LoadedKernel {
  /// Where vCPU 0 starts, in 64-bit mode (RIP).
  uint64_t entry = 0;
  /// The first byte past everything the kernel occupies, bss and (bzImage) init_size included:
  /// free memory starts here.
  uint64_t end = 0;
  /// A bzImage's setup header as found in the image (bytes past the header's own length zeroed),
  /// for boot_params; none for a vmlinux.
  std::optional<::setup_header> setup_header;
};

/// Detects the format of the image and loads it into `memory`.
Result<LoadedKernel> load_kernel(const GuestMemory& memory, const FileBytes& image);

/// The highest address the initrd's last byte may occupy: a bzImage's initrd_addr_max (unless
/// XLF_CAN_BE_LOADED_ABOVE_4G), else anywhere in the RAM this machine can have.
uint64_t initrd_address_limit(const LoadedKernel& kernel);

}  // namespace podrt::vmm
