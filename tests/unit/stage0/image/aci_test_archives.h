// Test helpers: exact tar archives (good and hostile) built with libarchive's writer.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>
#include <vector>

namespace podrt::image::testing {

/// One tar entry, written exactly as given (no sanitizing).
struct TarEntry {
  std::string path;
  unsigned type = AE_IFREG;  // AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO, AE_IFCHR, ...
  unsigned perm = 0644;
  std::string data;          // regular files
  std::string symlink;       // AE_IFLNK target
  std::string hardlink;      // when set: a hardlink entry to this archive path
  long uid = 0;
  long gid = 0;
  long mtime = 1'600'000'000;
};

inline TarEntry file_entry(std::string path, std::string data, unsigned perm = 0644) {
  TarEntry entry;
  entry.path = std::move(path);
  entry.data = std::move(data);
  entry.perm = perm;
  return entry;
}
inline TarEntry dir_entry(std::string path, unsigned perm = 0755) {
  TarEntry entry;
  entry.path = std::move(path);
  entry.type = AE_IFDIR;
  entry.perm = perm;
  return entry;
}
inline TarEntry symlink_entry(std::string path, std::string target) {
  TarEntry entry;
  entry.path = std::move(path);
  entry.type = AE_IFLNK;
  entry.perm = 0777;
  entry.symlink = std::move(target);
  return entry;
}
inline TarEntry hardlink_entry(std::string path, std::string target) {
  TarEntry entry;
  entry.path = std::move(path);
  entry.hardlink = std::move(target);
  return entry;
}
inline TarEntry node_entry(std::string path, unsigned type, unsigned perm = 0600) {
  TarEntry entry;
  entry.path = std::move(path);
  entry.type = type;
  entry.perm = perm;
  return entry;
}
inline TarEntry manifest_entry(std::string json = R"({"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/test"})") {
  return file_entry("manifest", std::move(json));
}

inline la_ssize_t append_to_string(struct archive*, void* client, const void* data, size_t size) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

/// The bytes of a pax tar holding `entries`, in order.
inline std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* writer = archive_write_new();
  archive_write_set_format_pax_restricted(writer);
  archive_write_open2(writer, &out, nullptr, append_to_string, nullptr, nullptr);
  for (const TarEntry& spec : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, spec.path.c_str());
    archive_entry_set_filetype(entry, spec.type);
    archive_entry_set_perm(entry, spec.perm);
    archive_entry_set_uid(entry, spec.uid);
    archive_entry_set_gid(entry, spec.gid);
    archive_entry_set_mtime(entry, spec.mtime, 0);
    if (!spec.hardlink.empty()) archive_entry_set_hardlink(entry, spec.hardlink.c_str());
    if (spec.type == AE_IFLNK) archive_entry_set_symlink(entry, spec.symlink.c_str());
    if (spec.type == AE_IFCHR || spec.type == AE_IFBLK) archive_entry_set_rdev(entry, makedev(8, 0));
    archive_entry_set_size(entry, spec.type == AE_IFREG && spec.hardlink.empty()
                                      ? static_cast<la_int64_t>(spec.data.size())
                                      : 0);
    archive_write_header(writer, entry);
    if (!spec.data.empty()) archive_write_data(writer, spec.data.data(), spec.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  return out;
}

/// `bytes` compressed with libarchive filter `filter` (ARCHIVE_FILTER_GZIP, ...; NONE: as is).
inline std::string compress(const std::string& bytes, int filter) {
  if (filter == ARCHIVE_FILTER_NONE) return bytes;
  std::string out;
  struct archive* writer = archive_write_new();
  archive_write_add_filter(writer, filter);
  archive_write_set_format_raw(writer);
  archive_write_set_bytes_in_last_block(writer, 1);
  archive_write_open2(writer, &out, nullptr, append_to_string, nullptr, nullptr);
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, "data");
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_size(entry, static_cast<la_int64_t>(bytes.size()));
  archive_write_header(writer, entry);
  archive_write_data(writer, bytes.data(), bytes.size());
  archive_entry_free(entry);
  archive_write_close(writer);
  archive_write_free(writer);
  return out;
}

}  // namespace podrt::image::testing
