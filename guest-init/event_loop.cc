#include "guest-init/event_loop.h"

#include <algorithm>
#include <cerrno>

namespace podrt::guest_init {

EventLoop::Watch* EventLoop::find(int fd) {
  for (Watch& watch : watches_)
    if (watch.fd == fd && !watch.removed) return &watch;
  return nullptr;
}

void EventLoop::watch(int fd, short events, Handler handler) {
  unwatch(fd);
  watches_.push_back(Watch{fd, events, std::move(handler)});
}

void EventLoop::set_events(int fd, short events) {
  if (Watch* watch = find(fd)) watch->events = events;
}

void EventLoop::unwatch(int fd) {
  // Marked only: run_once may be walking the list when a handler calls this.
  if (Watch* watch = find(fd)) watch->removed = true;
}

bool EventLoop::watching(int fd) const {
  return std::any_of(watches_.begin(), watches_.end(),
                     [fd](const Watch& watch) { return watch.fd == fd && !watch.removed; });
}

Result<void> EventLoop::run_once(int timeout_ms) {
  std::erase_if(watches_, [](const Watch& watch) { return watch.removed; });
  std::vector<pollfd> fds;
  fds.reserve(watches_.size());
  for (const Watch& watch : watches_) fds.push_back(pollfd{watch.fd, watch.events, 0});
  int ready = ::poll(fds.data(), fds.size(), timeout_ms);
  if (ready < 0 && errno == EINTR) return ok();
  if (ready < 0) return Error::from_errno("wait for events");
  // Handlers may add watches: walk by index over the ones polled, and copy each handler out
  // before calling it, since watch() may reallocate the list.
  size_t polled = fds.size();
  for (size_t i = 0; i < polled && ready > 0; ++i) {
    if (fds[i].revents == 0) continue;
    --ready;
    if (watches_[i].removed) continue;
    Handler handler = watches_[i].handler;
    handler(fds[i].revents);
  }
  return ok();
}

}  // namespace podrt::guest_init
