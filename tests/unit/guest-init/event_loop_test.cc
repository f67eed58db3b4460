#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/unique_fd.h"
#include "guest-init/event_loop.h"

namespace podrt::guest_init {
namespace {

TEST(GuestInitEventLoop, RunsTheHandlersOfReadyFdsAndLetsThemUnwatch) {
  int first[2], second[2];
  ASSERT_EQ(::pipe2(first, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(second, O_CLOEXEC), 0);
  UniqueFd first_read(first[0]), first_write(first[1]);
  UniqueFd second_read(second[0]), second_write(second[1]);
  EventLoop loop;
  int first_calls = 0, second_calls = 0;
  loop.watch(first_read.get(), POLLIN, [&](short revents) {
    EXPECT_TRUE(revents & POLLIN);
    ++first_calls;
    loop.unwatch(first_read.get());
    loop.unwatch(second_read.get());  // ready too, but gone before its turn
  });
  loop.watch(second_read.get(), POLLIN, [&](short) { ++second_calls; });
  ASSERT_EQ(::write(first_write.get(), "x", 1), 1);
  ASSERT_EQ(::write(second_write.get(), "y", 1), 1);
  ASSERT_TRUE(loop.run_once(1000));
  EXPECT_EQ(first_calls, 1);
  EXPECT_EQ(second_calls, 0);
  EXPECT_FALSE(loop.watching(first_read.get()));
  ASSERT_TRUE(loop.run_once(0));
  EXPECT_EQ(first_calls, 1);
}

TEST(GuestInitEventLoop, SetEventsChangesWhatWakesAnFd) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  EventLoop loop;
  int calls = 0;
  loop.watch(write_end.get(), 0, [&](short revents) {
    EXPECT_TRUE(revents & POLLOUT);
    ++calls;
  });
  ASSERT_TRUE(loop.run_once(0));
  EXPECT_EQ(calls, 0);
  loop.set_events(write_end.get(), POLLOUT);
  ASSERT_TRUE(loop.run_once(1000));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace podrt::guest_init
