#include "stage1-kvm/rootfs_disk.h"

#include <unistd.h>

#include <chrono>

#include "common/sys/file.h"
#include "common/sys/file_lock.h"
#include "stage1-ns/network/child_process.h"

namespace podrt::stage1_kvm {
namespace {

constexpr const char* kMkfsErofs = "/usr/bin/mkfs.erofs";

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  size_t first = start == std::string::npos ? 0 : start + 1;
  return text.substr(first, end + 1 - first);
}

}  // namespace

Result<std::string> ensure_rootfs_disk(const std::string& render) {
  std::string disk = render + ".erofs";
  if (sys::path_exists(disk)) return disk;
  if (::access(kMkfsErofs, X_OK) != 0)
    return Error::from_errno(std::string(kMkfsErofs) + " (apt-get install erofs-utils)");
  sys::FileLock lock = PODRT_TRY(sys::FileLock::open(render + ".erofs.lock", /*create=*/true));
  PODRT_TRY(lock.lock(sys::FileLock::Mode::Exclusive, sys::FileLock::Wait::Block));
  if (sys::path_exists(disk)) return disk;  // another pod made it while we waited
  std::string temporary = disk + ".tmp-" + std::to_string(::getpid());
  // Uncompressed, owners, modes and times kept: what the apps see is the render, byte for byte.
  auto made = stage1::network::run_process({kMkfsErofs, "--quiet", temporary, render}, {}, "",
                                           std::chrono::minutes(10));
  if (!made || made->exit_code != 0) {
    ::unlink(temporary.c_str());
    if (!made) return std::move(made).error().with_context("mkfs.erofs " + render);
    return Error::invalid("mkfs.erofs " + render + " failed: " + last_line(made->err + made->out));
  }
  if (::rename(temporary.c_str(), disk.c_str()) != 0) {
    Error error = Error::from_errno("rename " + temporary);
    ::unlink(temporary.c_str());
    return error;
  }
  return disk;
}

}  // namespace podrt::stage1_kvm
