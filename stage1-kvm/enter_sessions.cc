#include "stage1-kvm/enter_sessions.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/appc/json_fields.h"
#include "common/sys/file.h"

namespace podrt::stage1_kvm {
namespace {

using guest_protocol::Frame;
using guest_protocol::FrameType;

}  // namespace

Result<EnterSessions> EnterSessions::listen(const std::string& socket_path,
                                            std::vector<std::string> app_names) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path)
    return Error::invalid("enter socket path " + socket_path + " is too long");
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size());
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener) return Error::from_errno("socket for podrt enter");
  ::unlink(socket_path.c_str());
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::chmod(socket_path.c_str(), 0600) != 0 || ::listen(listener.get(), 16) != 0)
    return Error::from_errno("listen on " + socket_path);
  return EnterSessions(socket_path, std::move(listener), std::move(app_names));
}

EnterSessions::~EnterSessions() {
  if (listener_) ::unlink(path_.c_str());
}

void EnterSessions::add_poll_fds(std::vector<pollfd>& fds) const {
  fds.push_back({listener_.get(), POLLIN, 0});
  for (const Client& client : clients_) fds.push_back({client.fd.get(), POLLIN, 0});
}

void EnterSessions::handle(const std::vector<pollfd>& fds, size_t first, bool guest_ready,
                           std::string& to_guest) {
  bool new_client = fds[first].revents & POLLIN;
  size_t index = first + 1;
  for (auto it = clients_.begin(); it != clients_.end() && index < fds.size(); ++index) {
    bool keep = true;
    if (fds[index].revents & (POLLIN | POLLHUP | POLLERR)) keep = read_client(*it, guest_ready, to_guest);
    if (!keep) {
      // A client that leaves takes its command along.
      if (it->channel != 0) to_guest += guest_protocol::encode_frame(FrameType::kSignal, it->channel, "9");
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
  if (new_client) accept_client();
}

void EnterSessions::accept_client() {
  UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) return;
  clients_.push_back(Client{std::move(fd), {}, 0});
}

// A client that went away misses what is sent to it; its session ends when its EOF is read.
void EnterSessions::reply(Client& client, FrameType type, std::string_view payload) {
  (void)sys::write_all(client.fd.get(), guest_protocol::encode_frame(type, 0, payload), "podrt enter");
}

uint8_t EnterSessions::free_channel() const {
  for (int channel = guest_protocol::kFirstExecChannel; channel < 256; ++channel) {
    bool used = std::any_of(clients_.begin(), clients_.end(),
                            [&](const Client& c) { return c.channel == channel; });
    if (!used) return static_cast<uint8_t>(channel);
  }
  return 0;
}

Result<void> EnterSessions::start_exec(Client& client, const std::string& request, std::string& to_guest) {
  nlohmann::json json = PODRT_TRY(appc::parse_json_document(request));
  PODRT_TRY(appc::expect_object(json, "enter request"));
  std::string app = PODRT_TRY(appc::optional_string(json, "app", "enter request")).value_or("");
  std::vector<std::string> argv = {"/bin/sh"};
  if (const nlohmann::json* given = appc::find_member(json, "argv")) {
    argv = PODRT_TRY(appc::read_string_array(*given, "enter request.argv"));
    if (argv.empty()) argv = {"/bin/sh"};
  }
  if (app.empty()) {
    if (app_names_.size() != 1) return Error::invalid("the pod has several apps: give --app");
    app = app_names_[0];
  } else if (std::find(app_names_.begin(), app_names_.end(), app) == app_names_.end()) {
    return Error::invalid("the pod has no app " + app);
  }
  uint8_t channel = free_channel();
  if (channel == 0) return Error::invalid("too many podrt enter sessions in this pod at once");
  client.channel = channel;
  to_guest += guest_protocol::encode_frame(FrameType::kExec, channel,
                                           nlohmann::json{{"app", app}, {"argv", argv}}.dump());
  return ok();
}

bool EnterSessions::read_client(Client& client, bool guest_ready, std::string& to_guest) {
  char buffer[64 * 1024];
  ssize_t n = ::read(client.fd.get(), buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) return false;
  client.decoder.feed(buffer, static_cast<size_t>(n));
  while (true) {
    auto frame = client.decoder.next();
    if (!frame) {
      reply(client, FrameType::kFailure, frame.error().message());
      return false;
    }
    if (!*frame) return true;
    const Frame& request = **frame;
    if (client.channel == 0) {
      if (request.type != FrameType::kExec) {
        reply(client, FrameType::kFailure, "podrt enter: expected an exec request first");
        return false;
      }
      if (!guest_ready) {
        reply(client, FrameType::kFailure, "the pod's guest is not up yet: try again");
        return false;
      }
      if (auto started = start_exec(client, request.payload, to_guest); !started) {
        reply(client, FrameType::kFailure, started.error().message());
        return false;
      }
    } else if (request.type == FrameType::kStdin || request.type == FrameType::kSignal ||
               request.type == FrameType::kResize) {
      to_guest += guest_protocol::encode_frame(request.type, client.channel, request.payload);
    } else {
      reply(client, FrameType::kFailure, "podrt enter: unexpected frame");
      return false;
    }
  }
}

void EnterSessions::deliver(const Frame& frame) {
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->channel != frame.channel) continue;
    (void)sys::write_all(it->fd.get(), guest_protocol::encode_frame(frame.type, 0, frame.payload),
                         "podrt enter");
    // The session is over once its command has ended (or never started).
    if (frame.type == FrameType::kExecExited || frame.type == FrameType::kFailure) clients_.erase(it);
    return;
  }
}

void EnterSessions::close_all(const std::string& reason) {
  for (Client& client : clients_) reply(client, FrameType::kFailure, reason);
  clients_.clear();
}

}  // namespace podrt::stage1_kvm
