// Applying a layer: libarchive reads the blob once (decompressing as it goes), each entry is
// written through RootfsWriter, and whiteouts remove through the same confined lookups.
// The blob is read with libarchive directly rather than through image::DecompressedStream:
// its digest was verified when it was fetched, so there is nothing to hash or tee, and one
// handle gives archive_filter_bytes(-1), the compressed bytes read, for the progress bar.
#include "stage0/oci/layer_applier.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "common/log.h"
#include "common/unique_fd.h"
#include "stage0/image/archive_path.h"
#include "stage0/image/archive_stream.h"
#include "stage0/image/progress_bar.h"
#include "stage0/image/rootfs_writer.h"

namespace podrt::oci {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr size_t kReadBlockBytes = 1 << 20;

std::string_view parent_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}
std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

/// One layer being applied: the reader over the blob, the writer, and what this layer made.
class LayerApplication {
 public:
  LayerApplication(const std::string& blob_path, const image::UnpackLimits& limits)
      : blob_path_(blob_path), limits_(limits) {}

  Result<LayerApplyStats> run(const std::string& rootfs_dir, const std::string& progress_label) {
    int fd = ::open(blob_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno("open layer " + blob_path_);
    blob_fd_ = UniqueFd(fd);
    struct stat st;
    if (::fstat(blob_fd_.get(), &st) != 0) return Error::from_errno("stat layer " + blob_path_);
    if (!progress_label.empty())
      progress_.emplace(progress_label, static_cast<uint64_t>(st.st_size));

    // Only the compressions the image spec names, all decoded in-process by libarchive.
    tar_.reset(archive_read_new());
    if (!tar_ || archive_read_support_format_tar(tar_.get()) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(tar_.get()) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(tar_.get()) != ARCHIVE_OK)
      return Error::invalid("libarchive: no tar, gzip or zstd support");
    if (archive_read_open_fd(tar_.get(), blob_fd_.get(), kReadBlockBytes) != ARCHIVE_OK)
      return read_error();
    writer_.emplace(PODRT_TRY(image::RootfsWriter::open(rootfs_dir)));

    LayerApplyStats stats;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int status = archive_read_next_header(tar_.get(), &entry);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN) return read_error();
      if (++stats.entries > limits_.max_entries)
        return Error::invalid("more than " + std::to_string(limits_.max_entries) + " entries (the limit)");
      // Checked before the data is written: the sizes tar headers declare (what lands on disk)
      // and the tar bytes read so far (headers, padding) together stay within the limit.
      if (archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) > 0)
        declared_bytes_ += static_cast<uint64_t>(archive_entry_size(entry));
      uint64_t read_bytes = static_cast<uint64_t>(archive_filter_bytes(tar_.get(), 0));
      if (std::max(declared_bytes_, read_bytes) > limits_.max_unpacked_bytes)
        return Error::invalid("larger than the limit of " + std::to_string(limits_.max_unpacked_bytes) +
                              " bytes uncompressed (--max-image-size)");
      PODRT_TRY(apply_entry(entry));
      if (archive_read_data_skip(tar_.get()) != ARCHIVE_OK) return read_error();
      if (progress_) progress_->update(static_cast<uint64_t>(archive_filter_bytes(tar_.get(), -1)));
    }
    PODRT_TRY(writer_->finish());
    if (progress_) progress_->update(static_cast<uint64_t>(st.st_size));
    stats.bytes = static_cast<uint64_t>(archive_filter_bytes(tar_.get(), 0));
    return stats;
  }

 private:
  Error read_error() { return Error::invalid("read layer: " + image::archive_error_line(tar_.get())); }
  static Error entry_error(const std::string& name, const std::string& problem) {
    return Error::invalid("entry \"" + name + "\": " + problem);
  }

  /// Records that this layer made `path` (and so every directory above it).
  void created(std::string_view path) {
    for (; !path.empty(); path = parent_of(path))
      if (!created_.insert(std::string(path)).second) break;
  }

  Result<void> apply_entry(struct archive_entry* entry) {
    const char* raw_name = image::entry_path_of(entry);
    if (raw_name == nullptr) return Error::invalid("an entry with an undecodable name");
    std::string name = raw_name;
    auto normalized = image::normalize_archive_path(name);
    if (!normalized) return entry_error(name, normalized.error().message());
    const std::string& path = *normalized;

    // A whiteout is a marker, never a directory: "a/.wh.b/c" would put one in the rootfs.
    for (std::string_view above = parent_of(path); !above.empty(); above = parent_of(above))
      if (base_name(above).starts_with(kWhiteoutPrefix))
        return entry_error(name, "a whiteout cannot hold entries");
    std::string_view base = base_name(path);
    if (base.starts_with(kWhiteoutPrefix)) return apply_whiteout(name, path);

    const char* hardlink = archive_entry_hardlink(entry);
    if (path.empty() && (hardlink != nullptr || archive_entry_filetype(entry) != AE_IFDIR))
      return entry_error(name, "the layer's root must be a directory");
    Result<void> done = ok();
    if (hardlink != nullptr) {
      auto target = image::normalize_archive_path(hardlink);
      if (!target || target->empty())
        return entry_error(name, "hardlink target \"" + std::string(hardlink) + "\" is outside the root");
      done = writer_->hardlink(path, *target);
    } else {
      switch (archive_entry_filetype(entry)) {
        case AE_IFDIR:
          done = writer_->directory(path, image::entry_meta(entry));
          break;
        case AE_IFREG:
          done = writer_->regular_file(path, image::entry_meta(entry), tar_.get(), archive_entry_size(entry));
          break;
        case AE_IFLNK: {
          const char* target = image::entry_symlink_of(entry);
          if (target == nullptr || *target == '\0') return entry_error(name, "symlink without a target");
          done = writer_->symlink(path, image::entry_meta(entry), target);
          break;
        }
        case AE_IFIFO:
          done = writer_->fifo(path, image::entry_meta(entry));
          break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFSOCK:
          // Pods get their own /dev; a socket is no content.
          log::debug("layer " + blob_path_ + ": " + name + " skipped (device node or socket)");
          return ok();
        default:
          return entry_error(name, "unsupported entry type");
      }
    }
    if (!done) return entry_error(name, done.error().message());
    if (!path.empty()) created(path);
    return ok();
  }

  Result<void> apply_whiteout(const std::string& name, const std::string& path) {
    std::string directory(parent_of(path));
    std::string_view base = base_name(path);
    if (base == kOpaqueMarker) {
      // Whatever the tar put before the marker is kept by clear_directory; entries after it
      // are written into the cleared directory.
      auto cleared = writer_->clear_directory(
          directory, [this](std::string_view child) { return created_.count(std::string(child)) > 0; });
      if (!cleared) return entry_error(name, cleared.error().message());
      if (!directory.empty()) created(directory);
      return ok();
    }
    std::string_view hidden_name = base.substr(kWhiteoutPrefix.size());
    if (hidden_name.empty() || hidden_name == "." || hidden_name == "..")
      return entry_error(name, "not a valid whiteout");
    if (hidden_name.starts_with(kWhiteoutPrefix)) {
      // ".wh..wh.plnk" and the like: aufs bookkeeping, not content (Docker skips them too).
      log::debug("layer " + blob_path_ + ": " + name + " skipped (aufs metadata)");
      return ok();
    }
    std::string hidden = (directory.empty() ? "" : directory + "/") + std::string(hidden_name);
    // A whiteout hides lower layers only; an entry of this same layer stays.
    if (created_.count(hidden) > 0) return ok();
    auto removed = writer_->remove(hidden);
    if (!removed) return entry_error(name, removed.error().message());
    return ok();
  }

  const std::string& blob_path_;
  const image::UnpackLimits& limits_;
  UniqueFd blob_fd_;  // declared before tar_: the handle reads it until freed
  image::ArchiveReadPtr tar_;
  std::optional<image::RootfsWriter> writer_;
  std::optional<image::ProgressBar> progress_;
  std::set<std::string> created_;
  uint64_t declared_bytes_ = 0;
};

}  // namespace

Result<LayerApplyStats> apply_layer(const std::string& blob_path, const std::string& rootfs_dir,
                                    const image::UnpackLimits& limits,
                                    const std::string& progress_label) {
  LayerApplication application(blob_path, limits);
  return application.run(rootfs_dir, progress_label);
}

}  // namespace podrt::oci
