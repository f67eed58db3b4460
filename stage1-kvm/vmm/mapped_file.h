// MappedFile: a read-only private mapping of a whole file (the kernel, the initrd) and the file
// itself, closed and unmapped when done: loading maps its whole pages into guest memory
// copy-on-write (GuestMemory::load) and copies the rest, so this view is only read briefly.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm {

class MappedFile {
 public:
  /// Fails for a missing or unreadable file, a non-regular one, or one larger than `max_size`.
  static Result<MappedFile> open(const std::string& path, uint64_t max_size);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  /// The bytes with the file they came from, for GuestMemory::load.
  FileBytes file_bytes() const { return {bytes(), fd_.get()}; }

 private:
  MappedFile(UniqueFd fd, const uint8_t* data, uint64_t size) : fd_(std::move(fd)), data_(data), size_(size) {}
  void release();
  UniqueFd fd_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace podrt::vmm
