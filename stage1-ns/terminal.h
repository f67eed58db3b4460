// --interactive: the app gets a pseudo-terminal of its own and stage1 relays it to the
// caller's terminal (raw mode, window size kept in step on SIGWINCH), as nspawn does, so the
// app can never touch the caller's terminal directly.
#pragma once

#include <termios.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1 {

class Terminal {
 public:
  /// Opens a pty pair sized like stdin's terminal and puts stdin in raw mode.
  static Result<Terminal> open();
  Terminal(Terminal&& other) noexcept;
  Terminal& operator=(Terminal&&) = delete;
  ~Terminal();  ///< restores the caller's terminal mode

  int master() const { return master_.get(); }
  int replica() const { return replica_.get(); }
  /// The replica is the app's from now on; stage1 keeps only the master.
  void close_replica() { replica_.reset(); }
  /// Copies the caller's window size to the pty (on SIGWINCH).
  void sync_window_size() const;
  /// Moves what is ready: stdin -> master, master -> stdout. False once the master is done.
  bool relay(bool stdin_ready, bool master_ready);

 private:
  Terminal(UniqueFd master, UniqueFd replica, termios saved)
      : master_(std::move(master)), replica_(std::move(replica)), saved_(saved) {}
  UniqueFd master_;
  UniqueFd replica_;
  termios saved_{};
  bool restore_ = true;
};

}  // namespace podrt::stage1
