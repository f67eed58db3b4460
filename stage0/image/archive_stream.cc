// The decompress / hash / tee stream under the ACI unpacker. Only in-process decompressors are
// accepted: a filter that would run an external program on untrusted bytes is refused.
#include "stage0/image/archive_stream.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/sys/file.h"

namespace podrt::image {
namespace {

constexpr size_t kReadBlockSize = 1 << 20;

}  // namespace

std::string archive_error_line(struct archive* handle) {
  const char* text = archive_error_string(handle);
  std::string line = text != nullptr ? text : "unknown error";
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

Result<std::unique_ptr<DecompressedStream>> DecompressedStream::open(
    const std::string& source_path, const std::string& tee_path, uint64_t max_bytes) {
  std::unique_ptr<DecompressedStream> stream(new DecompressedStream());
  stream->source_path_ = source_path;
  stream->tee_path_ = tee_path;
  stream->max_bytes_ = max_bytes;
  stream->raw_.reset(archive_read_new());
  struct archive* raw = stream->raw_.get();
  if (raw == nullptr) return Error::invalid("archive_read_new: out of memory");
  // ARCHIVE_WARN means "falling back to an external program": refused.
  if (archive_read_support_filter_gzip(raw) != ARCHIVE_OK ||
      archive_read_support_filter_bzip2(raw) != ARCHIVE_OK ||
      archive_read_support_filter_xz(raw) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(raw) != ARCHIVE_OK ||
      archive_read_support_format_raw(raw) != ARCHIVE_OK) {
    return Error::invalid("libarchive lacks a built-in gzip/bzip2/xz/zstd decompressor: " +
                          archive_error_line(raw));
  }
  UniqueFd source = PODRT_TRY(sys::open_file(source_path, O_RDONLY));
  if (archive_read_open_fd(raw, source.get(), kReadBlockSize) != ARCHIVE_OK)
    return Error::invalid("read ACI " + source_path + ": " + archive_error_line(raw));
  // libarchive reads through the fd until archive_read_free; it does not close it.
  stream->source_fd_ = std::move(source);
  struct archive_entry* entry = nullptr;
  int status = archive_read_next_header(raw, &entry);
  if (status == ARCHIVE_EOF) return Error::invalid("read ACI " + source_path + ": empty file");
  if (status != ARCHIVE_OK)
    return Error::invalid("read ACI " + source_path + ": " + archive_error_line(raw));
  UniqueFd tee_fd;
  if (!tee_path.empty()) tee_fd = PODRT_TRY(sys::open_file(tee_path, O_WRONLY | O_CREAT | O_EXCL, 0644));
  stream->digest_tee_ = std::make_unique<DigestTee>(std::move(tee_fd), tee_path);
  return stream;
}

Result<std::span<const unsigned char>> DecompressedStream::next_block() {
  if (at_end_) return std::span<const unsigned char>();
  const void* data = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int status = archive_read_data_block(raw_.get(), &data, &size, &offset);
  if (status == ARCHIVE_EOF) {
    at_end_ = true;
    return std::span<const unsigned char>();
  }
  if (status != ARCHIVE_OK)
    return Error::invalid("read ACI " + source_path_ + ": " + archive_error_line(raw_.get()));
  if (size > max_bytes_ - total_bytes_) {
    return Error::invalid("ACI " + source_path_ + ": uncompressed size exceeds the limit of " +
                          std::to_string(max_bytes_) + " bytes (decompression bomb?)");
  }
  total_bytes_ += size;
  const auto* bytes = static_cast<const unsigned char*>(data);
  // Copied to the worker, which hashes and tees it while the caller parses and extracts it.
  PODRT_TRY(digest_tee_->submit(bytes, size));
  return std::span<const unsigned char>(bytes, size);
}

Result<void> DecompressedStream::drain() {
  for (;;) {
    std::span<const unsigned char> block = PODRT_TRY(next_block());
    if (block.empty()) return digest_tee_->wait();
  }
}

la_ssize_t DecompressedStream::read_callback(struct archive* reader, void* client,
                                             const void** buffer) {
  auto* stream = static_cast<DecompressedStream*>(client);
  auto block = stream->next_block();
  if (!block) {
    archive_set_error(reader, EIO, "%s", block.error().message().c_str());
    stream->error_ = std::move(block).error();
    return -1;
  }
  *buffer = block->data();
  return static_cast<la_ssize_t>(block->size());
}

int DecompressedStream::open_as_client_of(struct archive* reader) {
  // No skip callback: skipped entry data is read through, so it is hashed and tee'd too.
  return archive_read_open2(reader, this, nullptr, &DecompressedStream::read_callback, nullptr,
                            nullptr);
}

std::optional<Error> DecompressedStream::take_error() { return std::exchange(error_, std::nullopt); }

}  // namespace podrt::image
