// GuestMemory: the guest's RAM, one mapping that the VM sees at guest-physical 0: anonymous,
// except where a file (the kernel, the initrd) is mapped into it copy-on-write. Every access
// from the VMM goes through here, bounds- and overflow-checked, so that a guest address or
// length - which a hostile guest chooses - can never reach host memory outside the mapping.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "common/result.h"

namespace podrt::vmm {

/// The bytes of a file to load into guest memory and, when `fd` >= 0, the open file they are
/// (from offset 0), so that whole pages can be mapped from it instead of copied.
struct FileBytes {
  /// Implicit from whatever views as bytes (a span, a vector): a call's argument, not for keeping.
  template <class Bytes>
    requires std::convertible_to<const Bytes&, std::span<const uint8_t>>
  FileBytes(const Bytes& file_bytes, int file_fd = -1) : bytes(file_bytes), fd(file_fd) {}  // NOLINT
  std::span<const uint8_t> bytes;
  int fd = -1;
};

class GuestMemory {
 public:
  /// Maps `size` bytes (a multiple of 4 KiB) of zeroed, lazily backed memory.
  static Result<GuestMemory> allocate(uint64_t size);

  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&& other) noexcept;
  ~GuestMemory();

  uint64_t size() const { return size_; }
  /// For KVM_SET_USER_MEMORY_REGION only.
  uint8_t* host_base() const { return base_; }

  /// Whether [address, address + length) lies inside guest memory (no overflow).
  bool contains(uint64_t address, uint64_t length) const {
    return address <= size_ && length <= size_ - address;
  }

  /// The host view of guest range [address, address + length).
  Result<std::span<uint8_t>> slice(uint64_t address, uint64_t length) const;

  Result<void> read(uint64_t address, std::span<uint8_t> out) const;
  Result<void> write(uint64_t address, std::span<const uint8_t> data) const;

  /// Puts bytes [offset, offset + length) of `file` at guest `address`. Where guest and file
  /// offsets share their alignment, the whole 4 KiB pages in between are mapped from the file
  /// copy-on-write (MAP_PRIVATE): a page costs memory only once the guest touches it, and one
  /// it only reads is the page cache's, shared with every VM of the same file (the kernel's
  /// text). The rest, and everything of a file without an fd, is copied. The file must not
  /// change in place while the VM runs (the kernel cache replaces its files by rename).
  Result<void> load(uint64_t address, const FileBytes& file, uint64_t offset, uint64_t length) const;

  template <class T>
  Result<T> read_object(uint64_t address) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    PODRT_TRY(read(address, {reinterpret_cast<uint8_t*>(&value), sizeof value}));
    return value;
  }
  template <class T>
  Result<void> write_object(uint64_t address, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(address, {reinterpret_cast<const uint8_t*>(&value), sizeof value});
  }

  /// Acquire-load / release-store of a naturally aligned integer that the guest shares with the
  /// VMM concurrently (a virtqueue's avail and used indexes). Fails when out of bounds or
  /// misaligned.
  template <class T>
  Result<T> load_acquire(uint64_t address) const {
    T* target = PODRT_TRY(aligned<T>(address));
    return std::atomic_ref<T>(*target).load(std::memory_order_acquire);
  }
  template <class T>
  Result<void> store_release(uint64_t address, T value) const {
    T* target = PODRT_TRY(aligned<T>(address));
    std::atomic_ref<T>(*target).store(value, std::memory_order_release);
    return ok();
  }

 private:
  GuestMemory(uint8_t* base, uint64_t size, bool owned) : base_(base), size_(size), owned_(owned) {}
  template <class T>
  Result<T*> aligned(uint64_t address) const {
    static_assert(std::is_integral_v<T>);
    if (!contains(address, sizeof(T)) || address % alignof(T) != 0)
      return out_of_bounds(address, sizeof(T));
    return reinterpret_cast<T*>(base_ + address);
  }
  Error out_of_bounds(uint64_t address, uint64_t length) const;

  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  bool owned_ = false;
};

}  // namespace podrt::vmm
