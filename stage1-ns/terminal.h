// --interactive: the app gets a pseudo-terminal of its own and stage1 relays it to the
// caller's terminal (raw mode, window size kept in step on SIGWINCH), as nspawn does, so the
// app can never touch the caller's terminal directly.
#pragma once

#include <termios.h>

#include <string>

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
  /// The replica's path on the host (/dev/pts/N), bound at the app's /dev/console.
  const std::string& replica_path() const { return replica_path_; }
  /// The replica is the app's from now on; stage1 keeps only the master.
  void close_replica() { replica_.reset(); }
  /// Copies the caller's window size to the pty (on SIGWINCH).
  void sync_window_size() const;
  /// Moves what is ready: stdin -> master, master -> stdout. False once the master is done.
  bool relay(bool stdin_ready, bool master_ready);

 private:
  Terminal(UniqueFd master, UniqueFd replica, std::string replica_path, termios saved)
      : master_(std::move(master)), replica_(std::move(replica)),
        replica_path_(std::move(replica_path)), saved_(saved) {}
  UniqueFd master_;
  UniqueFd replica_;
  std::string replica_path_;
  termios saved_{};
  bool restore_ = true;
};

}  // namespace podrt::stage1
