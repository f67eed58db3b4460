#include "stage1-kvm/memory/guest_memory.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace podrt::vmm {

Result<GuestMemory> GuestMemory::allocate(uint64_t size) {
  if (size == 0 || size % 4096 != 0)
    return Error::invalid("guest memory size " + std::to_string(size) +
                          " is not a positive multiple of 4 KiB");
  // MAP_NORESERVE: only the pages the guest touches cost host memory.
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return Error::from_errno("map " + std::to_string(size >> 20) + " MiB of guest memory");
  return GuestMemory(static_cast<uint8_t*>(base), size, true);
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      owned_(std::exchange(other.owned_, false)) {}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept {
  if (this != &other) {
    if (owned_) ::munmap(base_, size_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

GuestMemory::~GuestMemory() {
  if (owned_) ::munmap(base_, size_);
}

Error GuestMemory::out_of_bounds(uint64_t address, uint64_t length) const {
  char text[128];
  std::snprintf(text, sizeof text,
                "guest range 0x%llx+0x%llx is outside guest memory (0x%llx bytes) or misaligned",
                static_cast<unsigned long long>(address), static_cast<unsigned long long>(length),
                static_cast<unsigned long long>(size_));
  return Error::invalid(text);
}

Result<std::span<uint8_t>> GuestMemory::slice(uint64_t address, uint64_t length) const {
  if (!contains(address, length)) return out_of_bounds(address, length);
  return std::span<uint8_t>(base_ + address, length);
}

Result<void> GuestMemory::read(uint64_t address, std::span<uint8_t> out) const {
  auto source = PODRT_TRY(slice(address, out.size()));
  if (!out.empty()) std::memcpy(out.data(), source.data(), out.size());
  return ok();
}

Result<void> GuestMemory::write(uint64_t address, std::span<const uint8_t> data) const {
  auto target = PODRT_TRY(slice(address, data.size()));
  if (!data.empty()) std::memcpy(target.data(), data.data(), data.size());
  return ok();
}

Result<void> GuestMemory::load(uint64_t address, const FileBytes& file, uint64_t offset,
                               uint64_t length) const {
  if (offset > file.bytes.size() || length > file.bytes.size() - offset)
    return Error::invalid("file range " + std::to_string(offset) + "+" + std::to_string(length) +
                          " is outside the file's " + std::to_string(file.bytes.size()) + " bytes");
  auto target = PODRT_TRY(slice(address, length));
  constexpr uint64_t kPage = 4096;
  // [first, last): the whole pages mapped from the file; none when the alignments differ.
  uint64_t first = 0, last = 0;
  if (file.fd >= 0 && address % kPage == offset % kPage) {
    first = std::min(length, (kPage - address % kPage) % kPage);
    last = first + (length - first) / kPage * kPage;
  }
  if (last > first) {
    // The mapping must not reach past the file's end (a SIGBUS on touch), whatever `bytes` says.
    struct stat status {};
    if (::fstat(file.fd, &status) != 0) return Error::from_errno("stat the file to map into guest memory");
    if (static_cast<uint64_t>(status.st_size) < offset + last)
      return Error::invalid("the file to map into guest memory has " + std::to_string(status.st_size) +
                            " bytes, fewer than its mapped view");
    void* at = base_ + address + first;
    if (::mmap(at, last - first, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, file.fd,
               static_cast<off_t>(offset + first)) == MAP_FAILED) {
      Error error = Error::from_errno("map a file into guest memory");
      // A failed MAP_FIXED may leave a hole: put zeroed anonymous memory back.
      (void)::mmap(at, last - first, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                   -1, 0);
      return error;
    }
  }
  if (length == 0) return ok();  // no memcpy from an empty span's null data
  const uint8_t* source = file.bytes.data() + offset;
  std::memcpy(target.data(), source, first);
  std::memcpy(target.data() + last, source + last, length - last);
  return ok();
}

}  // namespace podrt::vmm
