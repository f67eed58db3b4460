#include "stage1-kvm/pod_tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "stage1-ns/network/child_process.h"

namespace podrt::stage1_kvm {
namespace {

constexpr const char* kTc = "/usr/sbin/tc";

/// Enters a network namespace for its lifetime; back to the original one when destroyed.
class NetnsGuard {
 public:
  static Result<NetnsGuard> enter(const std::string& path) {
    UniqueFd original(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!original) return Error::from_errno("open /proc/self/ns/net");
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) return Error::from_errno("open network namespace " + path);
    if (::setns(target.get(), CLONE_NEWNET) != 0)
      return Error::from_errno("enter network namespace " + path);
    return NetnsGuard(std::move(original));
  }
  NetnsGuard(NetnsGuard&&) = default;
  ~NetnsGuard() {
    if (original_) (void)::setns(original_.get(), CLONE_NEWNET);
  }

 private:
  explicit NetnsGuard(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

void copy_name(ifreq& request, const std::string& name) {
  std::memset(&request, 0, sizeof request);
  std::snprintf(request.ifr_name, IFNAMSIZ, "%s", name.c_str());
}

Result<void> tc(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {kTc};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  auto run = stage1::network::run_process(argv, {}, "", std::chrono::seconds(10));
  if (!run) return std::move(run).error();
  if (run->exit_code != 0) {
    std::string message = run->err.empty() ? run->out : run->err;
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Error::invalid("tc " + arguments[0] + " " + arguments[1] + ": " + message);
  }
  return ok();
}

/// Every frame arriving on `from` leaves through `to`.
Result<void> redirect(const std::string& from, const std::string& to) {
  PODRT_TRY(tc({"qdisc", "add", "dev", from, "ingress"}));
  return tc({"filter", "add", "dev", from, "parent", "ffff:", "protocol", "all", "u32", "match",
             "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", to});
}

}  // namespace

Result<PodTap> create_pod_tap(const std::string& netns_path, const std::string& veth,
                              const std::string& tap_name) {
  NetnsGuard inside = PODRT_TRY(NetnsGuard::enter(netns_path));
  PodTap tap;
  tap.fd.reset(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!tap.fd) return Error::from_errno("open /dev/net/tun");
  ifreq request;
  copy_name(request, tap_name);
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(tap.fd.get(), TUNSETIFF, &request) != 0)
    return Error::from_errno("create tap " + tap_name);

  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket_fd) return Error::from_errno("socket");
  copy_name(request, veth);
  if (::ioctl(socket_fd.get(), SIOCGIFHWADDR, &request) != 0)
    return Error::from_errno("read the MAC of " + veth);
  const auto* mac = reinterpret_cast<const unsigned char*>(request.ifr_hwaddr.sa_data);
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                mac[3], mac[4], mac[5]);
  tap.mac = text;
  copy_name(request, veth);
  if (::ioctl(socket_fd.get(), SIOCGIFMTU, &request) != 0)
    return Error::from_errno("read the MTU of " + veth);
  tap.mtu = static_cast<unsigned>(request.ifr_mtu);
  copy_name(request, tap_name);
  request.ifr_mtu = static_cast<int>(tap.mtu);
  if (::ioctl(socket_fd.get(), SIOCSIFMTU, &request) != 0)
    return Error::from_errno("set the MTU of " + tap_name);
  copy_name(request, tap_name);
  if (::ioctl(socket_fd.get(), SIOCGIFFLAGS, &request) != 0)
    return Error::from_errno("read the flags of " + tap_name);
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(socket_fd.get(), SIOCSIFFLAGS, &request) != 0)
    return Error::from_errno("bring up " + tap_name);

  // tc runs as a child, which starts in the namespace this process is in now.
  PODRT_TRY(redirect(veth, tap_name));
  PODRT_TRY(redirect(tap_name, veth));
  return tap;
}

}  // namespace podrt::stage1_kvm
