#include "stage1-ns/metadata_service.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace podrt::stage1 {
namespace {

// Reading the pod's few manifests and binding a port takes milliseconds; this only bounds a
// service that hangs.
constexpr int kStartTimeoutMs = 30000;

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::from_errno("pipe for the metadata service");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The first line the service prints, or "" if it exits (or hangs) before printing one.
std::string read_url(int fd) {
  std::string text;
  char buffer[512];
  while (text.find('\n') == std::string::npos) {
    pollfd entry{fd, POLLIN, 0};
    int ready = ::poll(&entry, 1, kStartTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return "";
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    text.append(buffer, static_cast<size_t>(n));
  }
  return text.substr(0, text.find('\n'));
}

}  // namespace

Result<MetadataService> MetadataService::start(const std::string& binary, const std::string& listen_ip,
                                               const metadata::PodMetadata& pod,
                                               const std::string& identity_key) {
  // Its stdin is a socket so that stage1 can write with MSG_NOSIGNAL: a service that died at
  // once gives EPIPE, not a SIGPIPE that would kill stage1.
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
    return Error::from_errno("socketpair for the metadata service");
  Pipe input{UniqueFd(sockets[1]), UniqueFd(sockets[0])};
  Pipe output = PODRT_TRY(make_pipe());
  std::vector<std::string> argv = {binary, "--listen", listen_ip, "--identity-key", identity_key};
  // Built before the fork: the child only makes async-signal-safe calls.
  std::vector<char*> pointers;
  for (std::string& word : argv) pointers.push_back(word.data());
  pointers.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork for the metadata service");
  if (pid == 0) {
    // Stage1 may block signals for its signalfd: the service starts with none blocked.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(input.read.get(), STDIN_FILENO);
    ::dup2(output.write.get(), STDOUT_FILENO);
    ::execv(pointers[0], pointers.data());
    ::dprintf(STDERR_FILENO, "podrt-metadata-service: exec %s: %m\n", pointers[0]);
    ::_exit(127);
  }
  MetadataService service(pid, "");
  input.read.reset();
  output.write.reset();
  std::string json = metadata::to_json(pod).dump();
  for (size_t sent = 0; sent < json.size();) {
    ssize_t n = ::send(input.write.get(), json.data() + sent, json.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // it died: read_url says so
    sent += static_cast<size_t>(n);
  }
  input.write.reset();
  service.url_ = read_url(output.read.get());
  if (service.url_.rfind("http://", 0) != 0)
    return Error::invalid("the metadata service (" + binary + ") did not start");
  return service;
}

MetadataService::MetadataService(MetadataService&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), url_(std::move(other.url_)) {}

MetadataService& MetadataService::operator=(MetadataService&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    url_ = std::move(other.url_);
  }
  return *this;
}

MetadataService::~MetadataService() { stop(); }

void MetadataService::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace podrt::stage1
