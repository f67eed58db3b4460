#include "stage1-kvm/vmm/event_loop.h"

#include <sys/eventfd.h>

#include <atomic>
#include <vector>

namespace podrt::vmm {

struct EventLoop::State {
  UniqueFd epoll;
  UniqueFd wakeup;  ///< an eventfd that stop() writes to end epoll_wait
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  /// Shared pointers: a callback that removes its own fd (or another) stays alive until the
  /// loop is done calling it.
  std::unordered_map<int, std::shared_ptr<Callback>> callbacks;
};

EventLoop::EventLoop(std::unique_ptr<State> state) : state_(std::move(state)) {}
EventLoop::EventLoop(EventLoop&&) noexcept = default;
EventLoop& EventLoop::operator=(EventLoop&&) noexcept = default;
EventLoop::~EventLoop() = default;

Result<EventLoop> EventLoop::create() {
  auto state = std::make_unique<State>();
  state->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!state->epoll) return Error::from_errno("epoll_create1");
  state->wakeup.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!state->wakeup) return Error::from_errno("eventfd");
  epoll_event event{.events = EPOLLIN, .data = {.fd = state->wakeup.get()}};
  if (::epoll_ctl(state->epoll.get(), EPOLL_CTL_ADD, state->wakeup.get(), &event) != 0)
    return Error::from_errno("epoll_ctl add wakeup");
  return EventLoop(std::move(state));
}

Result<void> EventLoop::add(int fd, uint32_t events, Callback callback) {
  std::lock_guard lock(state_->mutex);
  if (state_->callbacks.contains(fd)) return Error::invalid("fd " + std::to_string(fd) + " is watched twice");
  epoll_event event{.events = events, .data = {.fd = fd}};
  if (::epoll_ctl(state_->epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0)
    return Error::from_errno("epoll_ctl add fd " + std::to_string(fd));
  state_->callbacks.emplace(fd, std::make_shared<Callback>(std::move(callback)));
  return ok();
}

Result<void> EventLoop::modify(int fd, uint32_t events) {
  epoll_event event{.events = events, .data = {.fd = fd}};
  if (::epoll_ctl(state_->epoll.get(), EPOLL_CTL_MOD, fd, &event) != 0)
    return Error::from_errno("epoll_ctl modify fd " + std::to_string(fd));
  return ok();
}

void EventLoop::remove(int fd) {
  std::lock_guard lock(state_->mutex);
  if (state_->callbacks.erase(fd) > 0) ::epoll_ctl(state_->epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::stop() {
  state_->stopping = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(state_->wakeup.get(), &one, sizeof one);
}

Result<void> EventLoop::run_once(int timeout_ms) {
  epoll_event events[32];
  int count = ::epoll_wait(state_->epoll.get(), events, 32, timeout_ms);
  if (count < 0) {
    if (errno == EINTR) return ok();
    return Error::from_errno("epoll_wait");
  }
  for (int i = 0; i < count; ++i) {
    int fd = events[i].data.fd;
    if (fd == state_->wakeup.get()) continue;
    std::shared_ptr<Callback> callback;
    {
      std::lock_guard lock(state_->mutex);
      auto found = state_->callbacks.find(fd);
      if (found == state_->callbacks.end()) continue;  // removed by an earlier callback
      callback = found->second;
    }
    (*callback)(events[i].events);
  }
  return ok();
}

Result<void> EventLoop::run() {
  while (!state_->stopping) PODRT_TRY(run_once(-1));
  return ok();
}

}  // namespace podrt::vmm
