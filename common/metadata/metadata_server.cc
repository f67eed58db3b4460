#include "common/metadata/metadata_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/metadata/access_token.h"
#include "common/metadata/metadata_routes.h"
#include "common/unique_fd.h"

namespace podrt::metadata {
namespace {

struct DaemonStopper {
  // Closes the listen socket and every connection, and joins MHD's thread.
  void operator()(MHD_Daemon* daemon) const { MHD_stop_daemon(daemon); }
};

/// One request's body as it arrives (MHD hands it over in pieces).
struct PendingRequest {
  std::string body;
  bool too_large = false;
};

struct ListenSocket {
  UniqueFd fd;
  bool ipv6 = false;
  uint16_t port = 0;
  std::string url_host;  ///< "10.0.0.1" or "[fd00::1]"
};

Result<ListenSocket> listen_on(const std::string& ip, uint16_t port, int backlog) {
  std::string where = "listen on " + ip + ":" + std::to_string(port) + " for the metadata service";
  sockaddr_storage address{};
  socklen_t address_size = 0;
  ListenSocket listener;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address_size = sizeof *v4;
    listener.url_host = ip;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address_size = sizeof *v6;
    listener.ipv6 = true;
    listener.url_host = "[" + ip + "]";
  } else {
    return Error::invalid(where + ": not an IP address");
  }
  listener.fd =
      UniqueFd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener.fd) return Error::from_errno(where);
  // A restarted stage1 can take its port back while old connections sit in TIME_WAIT.
  int on = 1;
  ::setsockopt(listener.fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (listener.ipv6) ::setsockopt(listener.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (::bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), address_size) != 0 ||
      ::listen(listener.fd.get(), backlog) != 0)
    return Error::from_errno(where);
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof bound;
  if (::getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_size) != 0)
    return Error::from_errno(where);
  listener.port = ntohs(listener.ipv6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                      : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return listener;
}

class MhdMetadataServer final : public MetadataServer {
 public:
  MhdMetadataServer(PodMetadata pod, IdentityKey key, std::string token,
                    const MetadataServerLimits& limits)
      : pod_(std::move(pod)), key_(std::move(key)), token_(std::move(token)), limits_(limits) {}

  Result<void> run(ListenSocket listener) {
    url_ = "http://" + listener.url_host + ":" + std::to_string(listener.port) + "/" + token_;
    port_ = listener.port;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (listener.ipv6) flags |= MHD_USE_IPv6;
    // MHD owns the listen socket from here on (it closes it in MHD_stop_daemon).
    int fd = listener.fd.release();
    daemon_.reset(
        MHD_start_daemon(flags, 0, nullptr, nullptr, &MhdMetadataServer::on_request, this,     //
                         MHD_OPTION_LISTEN_SOCKET, fd,                                         //
                         MHD_OPTION_CONNECTION_LIMIT, limits_.max_connections,                 //
                         MHD_OPTION_CONNECTION_TIMEOUT, limits_.connection_timeout_s,          //
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits_.connection_memory_bytes,  //
                         MHD_OPTION_NOTIFY_COMPLETED, &MhdMetadataServer::on_completed, this,  //
                         MHD_OPTION_EXTERNAL_LOGGER, &MhdMetadataServer::on_log, this,         //
                         MHD_OPTION_END));
    if (!daemon_)
      return Error::invalid("start the metadata service on " + url_host_port() +
                            ": libmicrohttpd failed");
    return ok();
  }

  std::string url() const override { return url_; }
  uint16_t port() const override { return port_; }

 private:
  std::string url_host_port() const { return url_.substr(0, url_.size() - token_.size() - 1); }

  // C callbacks: nothing may throw through libmicrohttpd. On bad_alloc the connection is dropped.
  static MHD_Result on_request(void* self, MHD_Connection* connection, const char* url,
                               const char* method, const char* /*version*/, const char* upload_data,
                               size_t* upload_size, void** request_state) noexcept {
    try {
      return static_cast<MhdMetadataServer*>(self)->handle(connection, url, method, upload_data,
                                                           upload_size, request_state);
    } catch (...) {
      return MHD_NO;
    }
  }

  static void on_completed(void* /*self*/, MHD_Connection* /*connection*/, void** request_state,
                           MHD_RequestTerminationCode /*why*/) noexcept {
    delete static_cast<PendingRequest*>(*request_state);
    *request_state = nullptr;
  }

  static void on_log(void* /*self*/, const char* format, va_list arguments) noexcept {
    char line[512];
    std::vsnprintf(line, sizeof line, format, arguments);
    size_t length = std::strlen(line);
    while (length > 0 && line[length - 1] == '\n') line[--length] = '\0';
    try {
      log::debug(std::string("metadata service: ") + line);
    } catch (...) {
    }
  }

  MHD_Result handle(MHD_Connection* connection, const char* url, const char* method,
                    const char* upload_data, size_t* upload_size, void** request_state) {
    auto* pending = static_cast<PendingRequest*>(*request_state);
    if (pending == nullptr) {
      // First call: only the headers are in. Refuse early what needs no body.
      std::string_view path(url);
      std::string_view rest;
      if (!authorized(path, rest))
        return reply(connection, {401, "text/plain; charset=us-ascii", "unauthorized\n", {}});
      const char* length =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (length != nullptr && std::strtoull(length, nullptr, 10) > limits_.max_body_bytes)
        return reply(connection, too_large());
      *request_state = new PendingRequest();
      return MHD_YES;
    }
    if (*upload_size > 0) {
      // Chunked bodies have no Content-Length: count as they come, drop the excess.
      if (!pending->too_large && pending->body.size() + *upload_size <= limits_.max_body_bytes) {
        pending->body.append(upload_data, *upload_size);
      } else {
        pending->too_large = true;
        std::string().swap(pending->body);
      }
      *upload_size = 0;
      return MHD_YES;
    }
    if (pending->too_large) return reply(connection, too_large());
    std::string_view rest;
    authorized(url, rest);  // checked on the first call; here it only splits the token off
    const char* content_type =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    HttpRequest request{method, rest, content_type ? content_type : "", pending->body};
    return reply(connection, route_metadata_request(pod_, key_, request));
  }

  /// Whether `path` starts with "/TOKEN"; `rest` is what follows ("/acMetadata/v1/...").
  bool authorized(std::string_view path, std::string_view& rest) const {
    if (path.empty() || path[0] != '/') return false;
    path.remove_prefix(1);
    size_t slash = path.find('/');
    std::string_view given = path.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    return access_token_matches(token_, given);
  }

  HttpReply too_large() const {
    return {413,
            "text/plain; charset=us-ascii",
            "request body larger than " + std::to_string(limits_.max_body_bytes) + " bytes\n",
            {}};
  }

  static MHD_Result reply(MHD_Connection* connection, const HttpReply& http) {
    MHD_Response* response = MHD_create_response_from_buffer(
        http.body.size(), const_cast<char*>(http.body.data()), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    if (!http.content_type.empty())
      MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, http.content_type.c_str());
    if (!http.allow.empty())
      MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, http.allow.c_str());
    MHD_Result queued = MHD_queue_response(connection, http.status, response);
    MHD_destroy_response(response);
    return queued;
  }

  const PodMetadata pod_;
  const IdentityKey key_;
  const std::string token_;
  const MetadataServerLimits limits_;
  std::string url_;
  uint16_t port_ = 0;
  // Last: destroyed first, so MHD's thread is gone before anything it reads.
  std::unique_ptr<MHD_Daemon, DaemonStopper> daemon_;
};

}  // namespace

Result<std::unique_ptr<MetadataServer>> MetadataServer::start(const std::string& listen_ip,
                                                              uint16_t port, PodMetadata pod,
                                                              IdentityKey key) {
  return start(listen_ip, port, std::move(pod), std::move(key), MetadataServerLimits{});
}

Result<std::unique_ptr<MetadataServer>> MetadataServer::start(const std::string& listen_ip,
                                                              uint16_t port, PodMetadata pod,
                                                              IdentityKey key,
                                                              const MetadataServerLimits& limits) {
  std::string token = PODRT_TRY(random_access_token());
  ListenSocket listener = PODRT_TRY(listen_on(listen_ip, port, 64));
  auto server =
      std::make_unique<MhdMetadataServer>(std::move(pod), std::move(key), std::move(token), limits);
  PODRT_TRY(server->run(std::move(listener)));
  return std::unique_ptr<MetadataServer>(std::move(server));
}

}  // namespace podrt::metadata
