#include "common/sys/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "common/sys/file.h"

namespace podrt::sys {

Result<FileLock> FileLock::open(const std::string& path, bool create) {
  int flags = O_RDONLY;
  if (create) flags = O_RDWR | O_CREAT;
  UniqueFd fd = PODRT_TRY(open_file(path, flags, 0644));
  return FileLock(std::move(fd));
}

Result<void> FileLock::lock(Mode mode, Wait wait) {
  int operation = mode == Mode::Shared ? LOCK_SH : LOCK_EX;
  if (wait == Wait::NonBlocking) operation |= LOCK_NB;
  while (::flock(fd_.get(), operation) != 0) {
    if (errno == EINTR) continue;
    return Error::from_errno("flock");
  }
  return ok();
}

Result<void> FileLock::unlock() {
  if (::flock(fd_.get(), LOCK_UN) != 0) return Error::from_errno("flock unlock");
  return ok();
}

}  // namespace podrt::sys
