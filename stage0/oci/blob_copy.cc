// One-pass verified copies. Durability is not this file's concern: the store syncs what it keeps.
#include "stage0/oci/blob_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "common/sys/file.h"

namespace podrt::oci {

Result<VerifiedBlobWriter> VerifiedBlobWriter::create(const std::string& destination,
                                                      std::string expected_digest,
                                                      uint64_t max_bytes) {
  if (!expected_digest.empty()) expected_digest = PODRT_TRY(parse_digest(expected_digest));
  UniqueFd fd = PODRT_TRY(
      sys::open_file(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
  return VerifiedBlobWriter(destination, std::move(fd), std::move(expected_digest), max_bytes);
}

VerifiedBlobWriter::VerifiedBlobWriter(std::string destination, UniqueFd fd,
                                       std::string expected_digest, uint64_t max_bytes)
    : destination_(std::move(destination)),
      fd_(std::move(fd)),
      expected_digest_(std::move(expected_digest)),
      max_bytes_(max_bytes) {}

VerifiedBlobWriter::VerifiedBlobWriter(VerifiedBlobWriter&& other) noexcept
    : destination_(std::move(other.destination_)),
      fd_(std::move(other.fd_)),
      expected_digest_(std::move(other.expected_digest_)),
      max_bytes_(other.max_bytes_),
      bytes_written_(other.bytes_written_),
      sha_(std::move(other.sha_)),
      file_owned_(std::exchange(other.file_owned_, false)) {}

VerifiedBlobWriter::~VerifiedBlobWriter() { discard(); }

void VerifiedBlobWriter::discard() {
  fd_.reset();
  if (std::exchange(file_owned_, false)) ::unlink(destination_.c_str());
}

Result<void> VerifiedBlobWriter::write(std::span<const unsigned char> bytes) {
  if (!file_owned_ || !fd_) return Error::invalid("write " + destination_ + ": blob already closed");
  if (bytes.size() > max_bytes_ - bytes_written_) {
    discard();
    return Error::invalid("blob is larger than the limit of " + std::to_string(max_bytes_) +
                          " bytes");
  }
  sha_.update(bytes);
  auto written = sys::write_all(
      fd_.get(), std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
      destination_);
  if (!written) {
    discard();
    return written;
  }
  bytes_written_ += bytes.size();
  return ok();
}

Result<void> VerifiedBlobWriter::write(std::string_view bytes) {
  return write(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(bytes.data()),
                                              bytes.size()));
}

Result<std::string> VerifiedBlobWriter::finish() {
  if (!file_owned_ || !fd_) return Error::invalid("finish " + destination_ + ": blob already closed");
  // close(2) reports delayed write errors (NFS, quotas): a blob that failed to land is no blob.
  if (::close(fd_.release()) != 0) {
    Error error = Error::from_errno("close " + destination_);
    discard();
    return error;
  }
  std::string actual = sha_.digest();
  if (!expected_digest_.empty() && actual != expected_digest_) {
    discard();
    return Error::invalid("digest mismatch: expected " + expected_digest_ + ", got " + actual);
  }
  file_owned_ = false;
  return actual;
}

Result<std::string> copy_verified(int source_fd, const std::string& destination,
                                  const std::string& expected_digest, uint64_t max_bytes) {
  VerifiedBlobWriter writer =
      PODRT_TRY(VerifiedBlobWriter::create(destination, expected_digest, max_bytes));
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(source_fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("read blob for " + destination);
    }
    if (n == 0) break;
    PODRT_TRY(writer.write(std::span<const unsigned char>(buffer.data(), static_cast<size_t>(n))));
  }
  return writer.finish();
}

Result<std::string> copy_verified(const std::string& source_path, const std::string& destination,
                                  const std::string& expected_digest, uint64_t max_bytes) {
  UniqueFd source = PODRT_TRY(sys::open_file(source_path, O_RDONLY));
  return copy_verified(source.get(), destination, expected_digest, max_bytes);
}

}  // namespace podrt::oci
