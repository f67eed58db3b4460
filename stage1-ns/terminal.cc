#include "stage1-ns/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace podrt::stage1 {

Result<Terminal> Terminal::open() {
  termios saved{};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) return Error::from_errno("--interactive: read the terminal's mode");
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
    return Error::from_errno("--interactive: open a pseudo-terminal");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) return Error::from_errno("--interactive: ptsname");
  // Not close-on-exec: the pod init and then the app inherit it.
  UniqueFd replica(::open(name, O_RDWR | O_NOCTTY));
  if (!replica) return Error::from_errno(std::string("--interactive: open ") + name);
  termios raw = saved;
  ::cfmakeraw(&raw);
  if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) return Error::from_errno("--interactive: raw mode");
  Terminal terminal(std::move(master), std::move(replica), name, saved);
  terminal.sync_window_size();
  return terminal;
}

Terminal::Terminal(Terminal&& other) noexcept
    : master_(std::move(other.master_)),
      replica_(std::move(other.replica_)),
      replica_path_(std::move(other.replica_path_)),
      saved_(other.saved_) {
  other.restore_ = false;
}

Terminal::~Terminal() {
  if (restore_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

void Terminal::sync_window_size() const {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0) ::ioctl(master_.get(), TIOCSWINSZ, &size);
}

bool Terminal::relay(bool stdin_ready, bool master_ready) {
  char buffer[4096];
  if (stdin_ready) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n > 0) (void)!::write(master_.get(), buffer, static_cast<size_t>(n));
  }
  if (master_ready) {
    ssize_t n = ::read(master_.get(), buffer, sizeof buffer);
    if (n <= 0) return errno == EAGAIN || errno == EINTR;  // EIO: every replica is closed
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(STDOUT_FILENO, buffer + done, static_cast<size_t>(n - done));
      if (w <= 0) break;
      done += w;
    }
  }
  return true;
}

}  // namespace podrt::stage1
