// The ACI importer: one read of the file feeds the image id, the blob and the rootfs at once.
#include "stage0/image/aci_unpacker.h"

#include <archive.h>
#include <archive_entry.h>

#include <optional>
#include <string_view>

#include "stage0/image/archive_path.h"
#include "stage0/image/archive_stream.h"
#include "stage0/image/rootfs_writer.h"

namespace podrt::image {
namespace {

/// The part of a normalized path below rootfs/ ("" for rootfs itself), or nullopt when the path
/// is not rootfs or below it.
std::optional<std::string_view> below_rootfs(std::string_view path) {
  constexpr std::string_view kRootfs = "rootfs";
  if (path == kRootfs) return std::string_view();
  if (path.size() > kRootfs.size() && path.starts_with(kRootfs) && path[kRootfs.size()] == '/')
    return path.substr(kRootfs.size() + 1);
  return std::nullopt;
}

/// One unpacking run: the stream, the tar reader over it, the writer and what was found.
class AciImport {
 public:
  AciImport(const std::string& source_path, const UnpackLimits& limits)
      : source_path_(source_path), limits_(limits) {}

  Result<UnpackedAci> run(const UnpackTargets& targets) {
    stream_ = PODRT_TRY(DecompressedStream::open(source_path_, targets.blob_path,
                                                 limits_.max_unpacked_bytes));
    if (!targets.rootfs_dir.empty()) writer_.emplace(PODRT_TRY(RootfsWriter::open(targets.rootfs_dir)));
    tar_.reset(archive_read_new());
    if (!tar_ || archive_read_support_format_tar(tar_.get()) != ARCHIVE_OK)
      return Error::invalid("libarchive: no tar support");
    if (stream_->open_as_client_of(tar_.get()) != ARCHIVE_OK) return read_error();

    uint64_t entries = 0;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int status = archive_read_next_header(tar_.get(), &entry);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN) return read_error();
      if (++entries > limits_.max_entries) {
        return Error::invalid("ACI " + source_path_ + ": more than " +
                              std::to_string(limits_.max_entries) + " entries (the limit)");
      }
      PODRT_TRY(import_entry(entry));
    }
    // The end-of-archive blocks and any padding after them belong to the image id too.
    PODRT_TRY(stream_->drain());
    if (!manifest_) return Error::invalid("ACI " + source_path_ + ": not an ACI: no manifest");
    if (writer_) PODRT_TRY_CONTEXT(writer_->finish(), "ACI " + source_path_);

    UnpackedAci result;
    result.image_id = "sha512-" + stream_->hex_digest();
    result.manifest_json = std::move(*manifest_);
    result.uncompressed_size = stream_->total_bytes();
    return result;
  }

 private:
  /// The stream's own failure (limit, decompression, I/O) when it caused libarchive's.
  Error read_error() {
    if (auto stream_error = stream_->take_error()) return std::move(*stream_error);
    return Error::invalid("read ACI " + source_path_ + ": " + archive_error_line(tar_.get()));
  }

  Error entry_error(const std::string& name, const std::string& problem) {
    return Error::invalid("ACI entry \"" + name + "\": " + problem);
  }

  Result<void> import_entry(struct archive_entry* entry) {
    const char* raw_name = entry_path_of(entry);
    if (raw_name == nullptr) return Error::invalid("ACI entry with an undecodable name");
    std::string name = raw_name;
    auto normalized = normalize_archive_path(name);
    if (!normalized) return entry_error(name, normalized.error().message());
    const std::string& path = *normalized;

    const char* hardlink_raw = archive_entry_hardlink(entry);
    mode_t type = archive_entry_filetype(entry);
    if (path.empty()) {  // "./": the archive's top directory
      if (hardlink_raw == nullptr && type == AE_IFDIR) return ok();
      return entry_error(name, "unexpected top-level entry (only manifest and rootfs/ are allowed)");
    }
    if (path == "manifest") return read_manifest(entry, name, hardlink_raw != nullptr || type != AE_IFREG);
    std::optional<std::string_view> relative = below_rootfs(path);
    if (!relative)
      return entry_error(name, "unexpected top-level entry (only manifest and rootfs/ are allowed)");
    if (relative->empty() && (hardlink_raw != nullptr || type != AE_IFDIR))
      return entry_error(name, "rootfs must be a directory");

    Result<void> done = ok();
    if (hardlink_raw != nullptr) {
      auto target = normalize_archive_path(hardlink_raw);
      if (!target) return entry_error(name, "hardlink target \"" + std::string(hardlink_raw) +
                                                "\": " + target.error().message());
      std::optional<std::string_view> target_relative = below_rootfs(*target);
      if (!target_relative || target_relative->empty())
        return entry_error(name, "hardlink target \"" + std::string(hardlink_raw) +
                                     "\" is outside rootfs/");
      if (writer_) done = writer_->hardlink(*relative, *target_relative);
    } else {
      switch (type) {
        case AE_IFDIR:
          if (writer_) done = writer_->directory(*relative, entry_meta(entry));
          break;
        case AE_IFREG:
          if (writer_)
            done = writer_->regular_file(*relative, entry_meta(entry), tar_.get(),
                                         archive_entry_size(entry));
          break;
        case AE_IFLNK: {
          const char* target = entry_symlink_of(entry);
          if (target == nullptr || *target == '\0')
            return entry_error(name, "symlink without a target");
          if (writer_) done = writer_->symlink(*relative, entry_meta(entry), target);
          break;
        }
        case AE_IFIFO:
          if (writer_) done = writer_->fifo(*relative, entry_meta(entry));
          break;
        case AE_IFCHR:
        case AE_IFBLK:
          return entry_error(name, "device nodes are not allowed");
        case AE_IFSOCK:
          break;  // sockets are not content: skipped
        default:
          return entry_error(name, "unsupported entry type");
      }
    }
    if (!done) {
      // A data read that failed because the stream did (a limit, bad compression) says so.
      if (auto stream_error = stream_->take_error()) return std::move(*stream_error);
      return entry_error(name, done.error().message());
    }
    // Whatever the writer did not read (or no writer): read through, so it is hashed and tee'd.
    if (archive_read_data_skip(tar_.get()) != ARCHIVE_OK) return read_error();
    return ok();
  }

  Result<void> read_manifest(struct archive_entry* entry, const std::string& name, bool wrong_type) {
    if (wrong_type) return entry_error(name, "manifest must be a regular file");
    if (manifest_) return entry_error(name, "duplicate manifest");
    int64_t size = archive_entry_size(entry);
    if (size < 0 || static_cast<uint64_t>(size) > limits_.max_manifest_bytes) {
      return entry_error(name, "manifest is larger than the limit of " +
                                   std::to_string(limits_.max_manifest_bytes) + " bytes");
    }
    std::string content(static_cast<size_t>(size), '\0');
    size_t filled = 0;
    while (filled < content.size()) {
      la_ssize_t n = archive_read_data(tar_.get(), content.data() + filled, content.size() - filled);
      if (n < 0) return read_error();
      if (n == 0) break;
      filled += static_cast<size_t>(n);
    }
    content.resize(filled);
    manifest_ = std::move(content);
    if (archive_read_data_skip(tar_.get()) != ARCHIVE_OK) return read_error();
    return ok();
  }

  const std::string& source_path_;
  const UnpackLimits& limits_;
  std::unique_ptr<DecompressedStream> stream_;  // outlives tar_, which reads from it
  ArchiveReadPtr tar_;
  std::optional<RootfsWriter> writer_;
  std::optional<std::string> manifest_;
};

}  // namespace

Result<UnpackedAci> unpack_aci(const std::string& source_path, const UnpackTargets& targets,
                               const UnpackLimits& limits) {
  AciImport import(source_path, limits);
  return import.run(targets);
}

}  // namespace podrt::image
