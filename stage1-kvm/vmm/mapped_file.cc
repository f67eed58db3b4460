#include "stage1-kvm/vmm/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <utility>


namespace podrt::vmm {

Result<MappedFile> MappedFile::open(const std::string& path, uint64_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::from_errno("open " + path);
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) return Error::from_errno("stat " + path);
  if (!S_ISREG(status.st_mode)) return Error::invalid(path + " is not a regular file");
  auto size = static_cast<uint64_t>(status.st_size);
  if (size == 0) return Error::invalid(path + " is empty");
  if (size > max_size)
    return Error::invalid(path + " is " + std::to_string(size >> 20) + " MiB, more than the " +
                          std::to_string(max_size >> 20) + " MiB of guest memory");
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (data == MAP_FAILED) return Error::from_errno("mmap " + path);
  return MappedFile(std::move(fd), static_cast<const uint8_t*>(data), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : fd_(std::move(other.fd_)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::move(other.fd_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
}

}  // namespace podrt::vmm
