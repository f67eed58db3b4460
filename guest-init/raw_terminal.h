// The control channel is a tty (hvc0): by default the line discipline echoes, turns "\n" into
// "\r\n", eats ^C, ^S and ^D and strips nothing only by luck. Frames are binary, so guest-init
// puts the tty in raw mode before it writes the first byte.
#pragma once

#include "common/result.h"

namespace podrt::guest_init {

/// cfmakeraw on the terminal `fd`: no echo, no line editing, no signals, no flow control, no
/// CR/LF translation, 8 bits per byte; read returns as soon as one byte is there.
Result<void> make_raw(int fd);

}  // namespace podrt::guest_init
