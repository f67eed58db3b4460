// Verified blob copies: bytes are read, hashed and written in one pass, and a copy whose digest
// is wrong or that runs past its limit never survives under its destination name.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage0/oci/digest.h"

namespace podrt::oci {

/// Writes a blob to a new private file (mode 0600, created O_EXCL) while hashing it; for
/// streams that arrive in pieces (a registry download). The file is removed when the writer goes
/// unless finish() succeeded, so a failed or abandoned copy leaves nothing behind. Move-only.
class VerifiedBlobWriter {
 public:
  /// `expected_digest` "" means: just compute it. More than `max_bytes` bytes fail.
  static Result<VerifiedBlobWriter> create(const std::string& destination,
                                           std::string expected_digest, uint64_t max_bytes);
  VerifiedBlobWriter(VerifiedBlobWriter&& other) noexcept;
  VerifiedBlobWriter& operator=(VerifiedBlobWriter&&) = delete;
  VerifiedBlobWriter(const VerifiedBlobWriter&) = delete;
  VerifiedBlobWriter& operator=(const VerifiedBlobWriter&) = delete;
  ~VerifiedBlobWriter();

  /// Appends bytes; fails (and removes the file) past the limit.
  Result<void> write(std::span<const unsigned char> bytes);
  Result<void> write(std::string_view bytes);
  /// Closes the file and returns its digest; on a mismatch with the expected digest the file is
  /// removed and the error reads "digest mismatch: expected X, got Y". Call once.
  Result<std::string> finish();

  uint64_t bytes_written() const { return bytes_written_; }
  const std::string& destination() const { return destination_; }

 private:
  VerifiedBlobWriter(std::string destination, UniqueFd fd, std::string expected_digest,
                     uint64_t max_bytes);
  void discard();

  std::string destination_;
  UniqueFd fd_;
  std::string expected_digest_;
  uint64_t max_bytes_ = 0;
  uint64_t bytes_written_ = 0;
  Sha256 sha_;
  bool file_owned_ = true;  // false once finished well or discarded (or moved from)
};

/// Copies everything readable from `source_fd` (from its current offset) to `destination`
/// (created O_EXCL, mode 0600) in one pass and returns the digest of the bytes. With a non-empty
/// `expected_digest` a different digest fails; more than `max_bytes` bytes fail with "larger than
/// the limit of N bytes". On any failure the destination is removed.
Result<std::string> copy_verified(int source_fd, const std::string& destination,
                                  const std::string& expected_digest, uint64_t max_bytes);
/// The same, reading the file at `source_path`.
Result<std::string> copy_verified(const std::string& source_path, const std::string& destination,
                                  const std::string& expected_digest, uint64_t max_bytes);

}  // namespace podrt::oci
