// A poll(2) loop over fds with a handler each, so that guest-init's one thread serves the
// control channel, the apps' output and SIGCHLD at once. New sources (an `exec` for
// `podrt enter`, say) are one watch() more.
#pragma once

#include <poll.h>

#include <functional>
#include <vector>

#include "common/result.h"

namespace podrt::guest_init {

class EventLoop {
 public:
  /// Called with the fd's revents (POLLIN, POLLOUT, POLLHUP, POLLERR...).
  using Handler = std::function<void(short revents)>;

  /// Starts watching `fd` for `events`; an fd is watched once (a second watch replaces it).
  void watch(int fd, short events, Handler handler);
  /// Changes what `fd` is watched for; 0 pauses it (POLLHUP and POLLERR still wake it, so a
  /// paused fd must not be a closed pipe).
  void set_events(int fd, short events);
  /// Stops watching `fd`; safe from inside any handler.
  void unwatch(int fd);
  bool watching(int fd) const;

  /// Waits up to `timeout_ms` (-1: forever) and runs the handlers of the fds that are ready.
  Result<void> run_once(int timeout_ms);

 private:
  struct Watch {
    int fd;
    short events;
    Handler handler;
    bool removed = false;
  };
  Watch* find(int fd);
  std::vector<Watch> watches_;
};

}  // namespace podrt::guest_init
