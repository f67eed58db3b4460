// --private-users (rkt's Documentation/devel/user-namespaces.md): the pod's processes run in a
// user namespace where the pod's root (uid and gid 0) is an unprivileged host id, BASE, and ids
// 0..65535 are BASE..BASE+65535. Unlike rkt, nothing is chowned: the shared image render is
// mounted idmapped through the namespace (rootfs/idmapped_mount.h), so the pod sees its files as
// owned by its own root, and only the pod's overlay upper dir holds files owned by BASE.
//
// stage1 itself stays real root until the very end: it joins the pod's cgroups and network,
// mounts the pod root and pivots into it as root, and only then joins the user namespace and
// execs the pod init. The pod's other namespaces (mount, pid, uts, ipc, net, cgroup) are thus
// owned by the host's user namespace: the pod's root has power over its own ids and files, but
// cannot mount, set the hostname or change the network, whatever capabilities it is given.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1 {

/// Host ids [base, base + count) are the pod's ids [0, count).
struct IdShift {
  uint32_t base = 0;
  uint32_t count = 65536;
};

/// The pod dir's record of its shift ("BASE:COUNT\n"), as rkt wrote one.
inline constexpr const char* kPrivateUsersFile = "private-users";

/// Chooses a range no other pod in the data dir holds (any state: an exited pod's upper dir
/// still has files owned by its range), starting from a slot derived from the pod's uuid, and
/// records it in the pod dir. A lock in the data dir makes concurrent runs choose in turn.
Result<IdShift> allocate_id_shift(const std::string& data_dir, const std::string& pod_dir,
                                  const std::string& uuid);

/// A user namespace with the shift as its uid and gid maps, kept alive by an fd: the pod's
/// first process joins it (join_as_root), and idmapped mounts are made through it.
class UserNamespace {
 public:
  /// Forks a short-lived process into a new user namespace, writes its maps (as real root, so
  /// setgroups stays allowed in it) and keeps the namespace's fd. Call before any thread exists.
  static Result<UserNamespace> create(const IdShift& shift);

  int fd() const { return fd_.get(); }
  const IdShift& shift() const { return shift_; }

 private:
  UserNamespace(UniqueFd fd, IdShift shift) : fd_(std::move(fd)), shift_(shift) {}
  UniqueFd fd_;
  IdShift shift_;
};

/// Joins the user namespace and becomes its root (host id BASE), with all capabilities in it.
/// The last step before exec: afterwards the process has no power over host-owned things.
Result<void> join_as_root(int userns_fd);

/// In the pod's own network namespace (never the host's), as real root: lets the pod's ids bind
/// ports below 1024 and ping (ICMP datagram sockets). The namespace belongs to the host's user
/// namespace, so CAP_NET_BIND_SERVICE and CAP_NET_RAW in the pod's count for nothing there.
Result<void> open_network_to_pod_ids(const IdShift& shift);

/// Hands `path` to the pod's root (chown to BASE:BASE): what the pod writes as its root
/// (overlay upper and work dirs, the status dir, its cgroups' cgroup.procs files).
Result<void> give_to_pod_root(const std::string& path, const IdShift& shift);

}  // namespace podrt::stage1
