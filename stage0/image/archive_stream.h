// DecompressedStream: the uncompressed bytes of an image file, read once, hashed and tee'd as they pass.
#pragma once

#include <archive.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage0/image/digest_tee.h"

namespace podrt::image {

/// Frees a libarchive read handle.
struct ArchiveReadDeleter {
  void operator()(struct archive* handle) const { archive_read_free(handle); }
};
/// An owned libarchive read handle.
using ArchiveReadPtr = std::unique_ptr<struct archive, ArchiveReadDeleter>;

/// libarchive's last error on `handle` as one line ("unknown error" when it has none).
std::string archive_error_line(struct archive* handle);

/// Decompresses a file (none, gzip, bzip2, xz or zstd, detected from its bytes) with libarchive's
/// raw format. Every byte handed out is added to a SHA-512 and, when a tee path was given, written
/// there, so one pass yields the image id, the uncompressed blob and the bytes to parse.
/// Pinned (libarchive callbacks keep a pointer to it): created and held by unique_ptr.
class DecompressedStream {
 public:
  /// Opens `source_path`. `tee_path` (empty: none) is created with O_EXCL. Reading more than
  /// `max_bytes` uncompressed bytes fails.
  static Result<std::unique_ptr<DecompressedStream>> open(const std::string& source_path,
                                                          const std::string& tee_path,
                                                          uint64_t max_bytes);
  DecompressedStream(const DecompressedStream&) = delete;
  DecompressedStream& operator=(const DecompressedStream&) = delete;

  /// The next block of uncompressed bytes (hashed and tee'd already); empty at the end.
  /// The block stays valid until the next call.
  Result<std::span<const unsigned char>> next_block();
  /// Reads to the end, so the hash covers the whole stream.
  Result<void> drain();
  /// Opens `reader` (a handle with formats set up) on this stream as its client. Read errors
  /// are kept here: after libarchive reports a failure, ask `take_error()` first.
  int open_as_client_of(struct archive* reader);
  /// The error that stopped the stream inside a libarchive callback, if any.
  std::optional<Error> take_error();

  /// Bytes handed out so far.
  uint64_t total_bytes() const { return total_bytes_; }
  /// SHA-512 (hex) of all the bytes handed out; call once, after drain().
  std::string hex_digest() { return digest_tee_->hex_digest(); }

 private:
  DecompressedStream() = default;
  static la_ssize_t read_callback(struct archive* reader, void* client, const void** buffer);

  std::string source_path_;
  std::string tee_path_;
  UniqueFd source_fd_;  // declared before raw_: the handle reads it until freed
  ArchiveReadPtr raw_;
  std::unique_ptr<DigestTee> digest_tee_;  // after raw_: stops before the buffers it reads go
  uint64_t max_bytes_ = 0;
  uint64_t total_bytes_ = 0;
  bool at_end_ = false;
  std::optional<Error> error_;
};

}  // namespace podrt::image
