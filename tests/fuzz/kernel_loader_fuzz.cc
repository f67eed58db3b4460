// Fuzzes the kernel loader with arbitrary images (ELF64 vmlinux or bzImage), then, for an image
// that loads, the zero page made from its setup header. A crash, a sanitizer report or a write
// outside the guest memory (caught by the GuestMemory bounds checks turning into errors, and by
// ASan for anything else) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/x86/boot_params.h"
#include "stage1-kvm/x86/kernel_loader.h"

namespace {

constexpr uint64_t kGuestMemorySize = 64ull << 20;

/// Allocated once: a fresh 64 MiB mapping per input would dominate the run time.
const podrt::vmm::GuestMemory& guest_memory() {
  static podrt::vmm::GuestMemory* memory = [] {
    auto allocated = podrt::vmm::GuestMemory::allocate(kGuestMemorySize);
    if (!allocated) std::abort();
    return new podrt::vmm::GuestMemory(std::move(allocated).value());
  }();
  return *memory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podrt::vmm;
  const GuestMemory& memory = guest_memory();
  auto loaded = load_kernel(memory, std::span<const uint8_t>(data, size));
  if (!loaded) return 0;
  if (loaded->entry >= memory.size() || loaded->end > memory.size()) std::abort();

  const uint8_t initrd[4096] = {1};
  auto initrd_placed = load_initrd(memory, initrd, loaded->end, initrd_address_limit(*loaded));
  BootParamsInput input;
  input.memory_size = memory.size();
  input.command_line_size = 16;
  input.setup_header = loaded->setup_header;
  if (initrd_placed) input.initrd = *initrd_placed;
  (void)write_boot_params(memory, input);
  return 0;
}
