// The guest network's pieces that run anywhere: address parsing, netmasks, and the ioctls in
// a fresh network namespace (which has a loopback and no eth0).
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "guest-init/network_setup.h"

namespace podrt::guest_init {
namespace {

std::string text_of(in_addr address) {
  char text[INET_ADDRSTRLEN];
  return ::inet_ntop(AF_INET, &address, text, sizeof text);
}

TEST(GuestInitNetwork, NetmaskForPrefix) {
  EXPECT_EQ(text_of(netmask_for_prefix(0)), "0.0.0.0");
  EXPECT_EQ(text_of(netmask_for_prefix(8)), "255.0.0.0");
  EXPECT_EQ(text_of(netmask_for_prefix(24)), "255.255.255.0");
  EXPECT_EQ(text_of(netmask_for_prefix(31)), "255.255.255.254");
  EXPECT_EQ(text_of(netmask_for_prefix(32)), "255.255.255.255");
}

TEST(GuestInitNetwork, ParseIpv4TakesDottedQuadsOnly) {
  auto address = parse_ipv4("172.16.28.5", "address");
  ASSERT_TRUE(address);
  EXPECT_EQ(text_of(*address), "172.16.28.5");
  for (const char* bad : {"", "300.1.1.1", "1.2.3", "::1", "172.16.28.5 ", "host"}) {
    auto parsed = parse_ipv4(bad, "gateway");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().message(), std::string("gateway \"") + bad +
                                            "\" is not an IPv4 address");
  }
}

// Runs `body` in a child in a new network namespace; its exit code (0: all fine) is returned.
int in_new_netns(int (*body)()) {
  pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(90);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

bool loopback_is_up() {
  int socket = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::strcpy(request.ifr_name, "lo");
  bool up = ::ioctl(socket, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_UP);
  ::close(socket);
  return up;
}

TEST(GuestInitNetwork, BringsLoopbackUp) {
  EXPECT_EQ(in_new_netns([] {
              if (loopback_is_up()) return 1;
              if (!set_up_network(std::nullopt)) return 2;
              return loopback_is_up() ? 0 : 3;
            }),
            0);
}

TEST(GuestInitNetwork, ErrorsNameTheStepAndTheInterface) {
  // No eth0 in a fresh namespace; a bad address is refused before any ioctl.
  EXPECT_EQ(in_new_netns([] {
              guest_protocol::GuestNetwork network;
              network.address = "10.0.0.2";
              auto done = set_up_network(network);
              if (done) return 1;
              return done.error().message() ==
                             "network: set the address 10.0.0.2 of eth0: No such device"
                         ? 0
                         : 2;
            }),
            0);
  EXPECT_EQ(in_new_netns([] {
              guest_protocol::GuestNetwork network;
              network.address = "10.0.0.2";
              network.gateway = "10.0.0.256";
              auto done = set_up_network(network);
              if (done) return 1;
              return done.error().message() ==
                             "network: gateway \"10.0.0.256\" is not an IPv4 address"
                         ? 0
                         : 2;
            }),
            0);
}

}  // namespace
}  // namespace podrt::guest_init
