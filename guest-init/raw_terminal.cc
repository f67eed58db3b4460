#include "guest-init/raw_terminal.h"

#include <termios.h>

namespace podrt::guest_init {

Result<void> make_raw(int fd) {
  termios mode{};
  if (::tcgetattr(fd, &mode) != 0) return Error::from_errno("read the control channel's tty mode");
  ::cfmakeraw(&mode);
  // A hangup of the host's end must not close the line on us, and no modem lines exist.
  mode.c_cflag |= CLOCAL | CREAD;
  mode.c_cc[VMIN] = 1;
  mode.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &mode) != 0)
    return Error::from_errno("put the control channel's tty in raw mode");
  return ok();
}

}  // namespace podrt::guest_init
