// MappedFile: a read-only private mapping of a whole file (the kernel, the initrd), unmapped
// when done: loading copies it into guest memory and the VMM keeps none of it resident.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

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

 private:
  MappedFile(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  void release();
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace podrt::vmm
