// Reading tar entries the same way in every importer: one normalization decides which names
// may be resolved below a root.
#include "stage0/image/archive_path.h"

#include <archive_entry.h>

namespace podrt::image {

Result<std::string> normalize_archive_path(std::string_view raw) {
  if (raw.empty()) return Error::invalid("empty path");
  if (raw.front() == '/') return Error::invalid("absolute paths are not allowed");
  std::string normalized;
  normalized.reserve(raw.size());
  size_t start = 0;
  while (start <= raw.size()) {
    size_t slash = raw.find('/', start);
    if (slash == std::string_view::npos) slash = raw.size();
    std::string_view component = raw.substr(start, slash - start);
    start = slash + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") return Error::invalid("path escapes the image root");
    if (!normalized.empty()) normalized += '/';
    normalized += component;
  }
  return normalized;
}

const char* entry_path_of(struct archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  return name != nullptr ? name : archive_entry_pathname_utf8(entry);
}

const char* entry_symlink_of(struct archive_entry* entry) {
  const char* target = archive_entry_symlink(entry);
  return target != nullptr ? target : archive_entry_symlink_utf8(entry);
}

EntryMeta entry_meta(struct archive_entry* entry) {
  EntryMeta meta;
  meta.mode = archive_entry_perm(entry) & 07777;
  meta.uid = static_cast<uid_t>(archive_entry_uid(entry));
  meta.gid = static_cast<gid_t>(archive_entry_gid(entry));
  meta.mtime.tv_sec = archive_entry_mtime(entry);
  meta.mtime.tv_nsec = archive_entry_mtime_nsec(entry);
  if (archive_entry_atime_is_set(entry) != 0) {
    meta.atime.tv_sec = archive_entry_atime(entry);
    meta.atime.tv_nsec = archive_entry_atime_nsec(entry);
  } else {
    meta.atime = meta.mtime;
  }
  return meta;
}

}  // namespace podrt::image
