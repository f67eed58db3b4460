#include "tests/support/aci_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <memory>

namespace podrt::testing {
namespace {

struct ArchiveWriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

Error archive_error(struct archive* a, const std::string& what) {
  const char* message = archive_error_string(a);
  return Error::invalid(what + ": " + (message ? message : "unknown libarchive error"));
}

}  // namespace

std::string minimal_manifest(const std::string& name, const std::string& exec) {
  return R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":")" + name +
         R"(","labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],)"
         R"("app":{"exec":[")" + exec + R"("],"user":"0","group":"0"}})";
}

std::vector<AciEntry> aci_skeleton(const std::string& manifest) {
  return {{.path = "manifest", .content = manifest},
          {.path = "rootfs", .kind = AciEntry::Kind::Directory, .mode = 0755}};
}

std::vector<AciEntry> aci_with(std::vector<AciEntry> rest, const std::string& manifest) {
  std::vector<AciEntry> entries = aci_skeleton(manifest);
  entries.insert(entries.end(), rest.begin(), rest.end());
  return entries;
}

Result<void> write_aci(const std::string& path, const std::vector<AciEntry>& entries,
                       Compression compression) {
  std::unique_ptr<struct archive, ArchiveWriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  int rc = ARCHIVE_OK;
  switch (compression) {
    case Compression::None: break;
    case Compression::Gzip: rc = archive_write_add_filter_gzip(a.get()); break;
    case Compression::Bzip2: rc = archive_write_add_filter_bzip2(a.get()); break;
    case Compression::Xz: rc = archive_write_add_filter_xz(a.get()); break;
    case Compression::Zstd: rc = archive_write_add_filter_zstd(a.get()); break;
  }
  if (rc != ARCHIVE_OK) return archive_error(a.get(), "add filter");
  if (archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK)
    return archive_error(a.get(), "open " + path);
  for (const AciEntry& item : entries) {
    std::unique_ptr<struct archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), item.path.c_str());
    archive_entry_set_perm(entry.get(), item.mode);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), 1700000000, 0);
    uint64_t size = 0;
    switch (item.kind) {
      case AciEntry::Kind::File:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        size = item.content.size() + item.zero_bytes;
        break;
      case AciEntry::Kind::Directory: archive_entry_set_filetype(entry.get(), AE_IFDIR); break;
      case AciEntry::Kind::Symlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_symlink(entry.get(), item.link_target.c_str());
        break;
      case AciEntry::Kind::Hardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_hardlink(entry.get(), item.link_target.c_str());
        break;
      case AciEntry::Kind::CharDevice:
        archive_entry_set_filetype(entry.get(), AE_IFCHR);
        archive_entry_set_rdev(entry.get(), makedev(1, 3));
        break;
      case AciEntry::Kind::BlockDevice:
        archive_entry_set_filetype(entry.get(), AE_IFBLK);
        archive_entry_set_rdev(entry.get(), makedev(8, 0));
        break;
      case AciEntry::Kind::Fifo: archive_entry_set_filetype(entry.get(), AE_IFIFO); break;
    }
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK)
      return archive_error(a.get(), "write header " + item.path);
    if (item.kind == AciEntry::Kind::File) {
      if (!item.content.empty() &&
          archive_write_data(a.get(), item.content.data(), item.content.size()) < 0)
        return archive_error(a.get(), "write " + item.path);
      std::string zeros(1 << 20, '\0');
      for (uint64_t left = item.zero_bytes; left > 0;) {
        size_t chunk = left < zeros.size() ? static_cast<size_t>(left) : zeros.size();
        if (archive_write_data(a.get(), zeros.data(), chunk) < 0)
          return archive_error(a.get(), "write " + item.path);
        left -= chunk;
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_error(a.get(), "close " + path);
  return ok();
}

}  // namespace podrt::testing
