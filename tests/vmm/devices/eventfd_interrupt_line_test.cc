#include "stage1-kvm/devices/eventfd_interrupt_line.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

namespace podrt::vmm {
namespace {

TEST(EventFdInterruptLineTest, TriggersAddUpOnTheEventFd) {
  auto line = EventFdInterruptLine::create();
  ASSERT_TRUE(line) << line.error().message();
  (*line)->trigger();
  (*line)->trigger();
  uint64_t count = 0;
  ASSERT_EQ(::read((*line)->fd(), &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_EQ(count, 2u);
  // Drained: a read now does not block (non-blocking) and finds nothing.
  EXPECT_EQ(::read((*line)->fd(), &count, sizeof count), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(EventFdInterruptLineTest, IsCloseOnExecAndNonBlocking) {
  auto line = EventFdInterruptLine::create();
  ASSERT_TRUE(line) << line.error().message();
  EXPECT_NE(::fcntl((*line)->fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl((*line)->fd(), F_GETFL) & O_NONBLOCK, 0);
}

}  // namespace
}  // namespace podrt::vmm
