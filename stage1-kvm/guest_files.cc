#include "stage1-kvm/guest_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "common/guest_kernel_path.h"
#include "common/sha512.h"
#include "common/sys/file.h"

namespace podrt::stage1_kvm {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Result<void> add_entry(archive* out, const std::string& name, mode_t type, mode_t mode,
                       const std::string& content = "", dev_t device = 0) {
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), name.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), mode);
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
  if (device != 0) archive_entry_set_rdev(entry.get(), device);
  if (archive_write_header(out, entry.get()) != ARCHIVE_OK)
    return Error::invalid("initramfs entry " + name + ": " + archive_error_string(out));
  if (!content.empty() &&
      archive_write_data(out, content.data(), content.size()) != static_cast<la_ssize_t>(content.size()))
    return Error::invalid("initramfs entry " + name + ": " + archive_error_string(out));
  return ok();
}

}  // namespace

Result<std::string> find_guest_kernel() {
  std::string path = guest_kernel_path();
  if (::access(path.c_str(), R_OK) != 0)
    return Error::from_errno("no guest kernel at " + path + " (build it with `make build`: "
                             "kernel-config/build-kernel, about 3 minutes once; or set "
                             "PODRT_GUEST_KERNEL)");
  return path;
}

Result<std::string> find_guest_init() {
  std::string path = sys::own_directory() + "/podrt-guest-init";
  if (::access(path.c_str(), R_OK) != 0)
    return Error::from_errno("no guest-init at " + path + " (build it with `make build`)");
  return path;
}

Result<void> write_initramfs(const std::string& path, const std::string& guest_init) {
  std::string init = PODRT_TRY(sys::read_file(guest_init));
  std::unique_ptr<archive, ArchiveDeleter> out(archive_write_new());
  if (archive_write_set_format_cpio_newc(out.get()) != ARCHIVE_OK ||
      archive_write_add_filter_none(out.get()) != ARCHIVE_OK ||
      archive_write_open_filename(out.get(), path.c_str()) != ARCHIVE_OK)
    return Error::invalid("initramfs " + path + ": " + archive_error_string(out.get()));
  // /dev/console so that the kernel gives init its stdio (the serial console) before devtmpfs.
  for (const char* dir : {"dev", "proc", "sys", "opt", "podrt", "tmp", "etc"})
    PODRT_TRY(add_entry(out.get(), dir, AE_IFDIR, 0755));
  PODRT_TRY(add_entry(out.get(), "dev/console", AE_IFCHR, 0600, "", makedev(5, 1)));
  PODRT_TRY(add_entry(out.get(), "init", AE_IFREG, 0755, init));
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return Error::invalid("initramfs " + path + ": " + archive_error_string(out.get()));
  return ok();
}

Result<std::string> ensure_initramfs(const std::string& data_dir, const std::string& guest_init) {
  // Keyed by which file guest-init is (device, inode, size, change time), not by its content:
  // hashing 1.4 MB on every pod start would be the start's largest cost on the host, and a
  // rebuilt or replaced binary changes the key anyway.
  struct stat st;
  if (::stat(guest_init.c_str(), &st) != 0) return Error::from_errno("stat " + guest_init);
  std::string identity = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
                         std::to_string(st.st_size) + ":" + std::to_string(st.st_ctim.tv_sec) +
                         "." + std::to_string(st.st_ctim.tv_nsec);
  Sha512 key;
  key.update(identity.data(), identity.size());
  std::string digest = key.hex_digest();
  std::string dir = data_dir + "/cas/guest";
  std::string path = dir + "/initramfs-" + digest.substr(0, 32) + ".cpio";
  if (sys::path_exists(path)) return path;
  PODRT_TRY(sys::make_directories(dir, 0755));
  std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  auto written = write_initramfs(temporary, guest_init);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    Error error = written ? Error::from_errno("rename " + temporary) : std::move(written).error();
    ::unlink(temporary.c_str());
    return error;
  }
  return path;
}

}  // namespace podrt::stage1_kvm
