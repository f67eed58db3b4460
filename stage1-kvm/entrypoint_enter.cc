// stage1-kvm's enter entrypoint: ask the pod's running stage1 (over stage1/enter.sock) to start
// the command in an app inside the guest, relay stdin to it and its output back, and exit with
// its code. guest-init starts it the way the supervisor starts the app (same user, env, caps,
// seccomp, cgroups, root).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "common/guest_protocol/frame.h"
#include "common/sys/file.h"
#include "stage1-kvm/enter_sessions.h"
#include "stage1-kvm/entrypoints.h"

namespace podrt::stage1_kvm {
namespace {

using guest_protocol::FrameType;

// MSG_NOSIGNAL: stage1 may close as soon as it has answered (a refused request), and a broken
// pipe must not kill us before we read its answer.
Result<void> send_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::from_errno("write to the pod's stage1");
    done += static_cast<size_t>(n);
  }
  return ok();
}

Result<UniqueFd> connect_to_stage1(const std::string& uuid) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::from_errno("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, kEnterSocket, sizeof address.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return Error::from_errno("enter pod " + uuid + ": is it running? connect to " + kEnterSocket);
  return fd;
}

}  // namespace

Result<int> enter_pod(const std::string& uuid, const std::string& app,
                      const std::vector<std::string>& command) {
  UniqueFd stage1 = PODRT_TRY(connect_to_stage1(uuid));
  nlohmann::json request{{"argv", command.empty() ? std::vector<std::string>{"/bin/sh"} : command}};
  if (!app.empty()) request["app"] = app;
  PODRT_TRY(send_all(stage1.get(), guest_protocol::encode_frame(FrameType::kExec, 0, request.dump())));

  guest_protocol::FrameDecoder decoder;
  bool stdin_open = true;
  char buffer[64 * 1024];
  while (true) {
    pollfd fds[2] = {{stage1.get(), POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("poll");
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      // Input stage1 no longer takes is dropped; its answer is still read below.
      if (n > 0) {
        if (!send_all(stage1.get(), guest_protocol::encode_frame(
                                        FrameType::kStdin, 0, std::string_view(buffer, static_cast<size_t>(n)))))
          stdin_open = false;
      } else if (n == 0 || errno != EINTR) {
        stdin_open = false;
        (void)send_all(stage1.get(), guest_protocol::encode_frame(FrameType::kStdin, 0, ""));
      }
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = ::read(stage1.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::invalid("enter pod " + uuid + ": the pod ended before the command did");
    decoder.feed(buffer, static_cast<size_t>(n));
    while (true) {
      auto frame = PODRT_TRY(decoder.next());
      if (!frame) break;
      switch (frame->type) {
        case FrameType::kStdout: (void)sys::write_all(STDOUT_FILENO, frame->payload, "stdout"); break;
        case FrameType::kStderr: (void)sys::write_all(STDERR_FILENO, frame->payload, "stderr"); break;
        case FrameType::kExecExited: {
          int code = std::atoi(frame->payload.c_str());
          return code >= 0 && code <= 255 ? code : 254;
        }
        case FrameType::kFailure: return Error::invalid("enter pod " + uuid + ": " + frame->payload);
        default: return Error::invalid("enter pod " + uuid + ": unexpected frame from stage1");
      }
    }
  }
}

}  // namespace podrt::stage1_kvm
