// `podrt enter` for kvm pods, on the run side: stage1-kvm listens on stage1/enter.sock in the
// pod directory (root-only, like the directory); each connection is one `podrt-stage1-kvm
// enter` speaking the guest protocol's frames — kExec and kStdin in; kStdout, kStderr,
// kExecExited and kFailure out — which are relayed to guest-init on a channel of its own.
#pragma once

#include <poll.h>

#include <list>
#include <string>
#include <vector>

#include "common/guest_protocol/frame.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1_kvm {

inline constexpr const char* kEnterSocket = "stage1/enter.sock";

class EnterSessions {
 public:
  /// Listens on `socket_path` (relative to the pod directory: unix socket paths are short).
  static Result<EnterSessions> listen(const std::string& socket_path, std::vector<std::string> app_names);
  EnterSessions(EnterSessions&&) = default;
  ~EnterSessions();

  /// Appends the fds to poll (the listener, then each client); handle() takes them back.
  void add_poll_fds(std::vector<pollfd>& fds) const;
  /// Acts on what poll() reported for the fds add_poll_fds added from `first` on. Frames for
  /// the guest go to `to_guest`; `guest_ready` says whether guest-init takes them yet.
  void handle(const std::vector<pollfd>& fds, size_t first, bool guest_ready, std::string& to_guest);
  /// A guest frame on an exec channel, for its client (unknown channels are dropped).
  void deliver(const guest_protocol::Frame& frame);
  /// The pod is over: clients still waiting are told so and closed.
  void close_all(const std::string& reason);

 private:
  struct Client {
    UniqueFd fd;
    guest_protocol::FrameDecoder decoder;
    uint8_t channel = 0;  ///< 0 until its kExec was forwarded
  };
  EnterSessions(std::string path, UniqueFd listener, std::vector<std::string> app_names)
      : path_(std::move(path)), listener_(std::move(listener)), app_names_(std::move(app_names)) {}
  void accept_client();
  /// False when the client is done with (closed, or broke the protocol).
  bool read_client(Client& client, bool guest_ready, std::string& to_guest);
  Result<void> start_exec(Client& client, const std::string& request, std::string& to_guest);
  uint8_t free_channel() const;
  static void reply(Client& client, guest_protocol::FrameType type, std::string_view payload);

  std::string path_;
  UniqueFd listener_;
  std::vector<std::string> app_names_;
  std::list<Client> clients_;
};

}  // namespace podrt::stage1_kvm
