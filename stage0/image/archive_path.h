// What every tar reader of images shares: entry paths normalized (and refused when they could
// leave the root) and an entry's ownership, mode and times.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "stage0/image/rootfs_writer.h"

struct archive_entry;

namespace podrt::image {

/// Normalizes an archive path: drops empty and "." components ("./rootfs//a/" -> "rootfs/a").
/// Refuses absolute paths and "..". "" means the archive's own top directory.
Result<std::string> normalize_archive_path(std::string_view raw);

/// The entry's path as the archive wrote it (the locale form, else UTF-8), or nullptr when
/// libarchive cannot decode it.
const char* entry_path_of(struct archive_entry* entry);
/// The entry's symlink target (the locale form, else UTF-8), or nullptr.
const char* entry_symlink_of(struct archive_entry* entry);

/// The entry's permission bits, owner and times (atime = mtime when the archive has none).
EntryMeta entry_meta(struct archive_entry* entry);

}  // namespace podrt::image
