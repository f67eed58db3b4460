#include "stage1-kvm/devices/eventfd_interrupt_line.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace podrt::vmm {

Result<std::unique_ptr<EventFdInterruptLine>> EventFdInterruptLine::create() {
  UniqueFd eventfd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!eventfd) return Error::from_errno("eventfd for an interrupt line");
  return std::unique_ptr<EventFdInterruptLine>(new EventFdInterruptLine(std::move(eventfd)));
}

void EventFdInterruptLine::trigger() {
  uint64_t one = 1;
  ssize_t written;
  do {
    written = ::write(eventfd_.get(), &one, sizeof one);
  } while (written < 0 && errno == EINTR);
  // EAGAIN (the counter is full) is the only other failure, and then the interrupt is pending.
}

}  // namespace podrt::vmm
