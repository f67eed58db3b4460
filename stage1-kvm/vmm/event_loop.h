// EventLoop: the VMM's one I/O thread. Host fds (the control and console sockets, the tap, the
// ioeventfds of virtqueue notifications) are watched with epoll and each readiness calls the
// callback registered for that fd. Callbacks run on the loop's thread only; add/modify/remove
// may be called from callbacks and from other threads.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::vmm {

class EventLoop {
 public:
  /// Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLHUP, ...) that are ready.
  using Callback = std::function<void(uint32_t events)>;

  static Result<EventLoop> create();

  // Defined where State is complete (event_loop.cc).
  EventLoop(EventLoop&&) noexcept;
  EventLoop& operator=(EventLoop&&) noexcept;
  ~EventLoop();

  /// Watches `fd` (not owned) for `events`. One registration per fd.
  Result<void> add(int fd, uint32_t events, Callback callback);
  /// Changes the events watched on `fd` (to pause reading when a guest queue is full, say).
  Result<void> modify(int fd, uint32_t events);
  void remove(int fd);

  /// Waits for events and runs their callbacks until stop() is called (from any thread or a
  /// callback). Returns an error only if epoll itself fails.
  Result<void> run();
  void stop();
  /// Runs the callbacks of whatever is ready now, waiting at most `timeout_ms` (tests).
  Result<void> run_once(int timeout_ms);

 private:
  struct State;
  explicit EventLoop(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace podrt::vmm
