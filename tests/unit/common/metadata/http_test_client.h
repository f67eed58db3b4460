// A minimal HTTP/1.1 client over plain sockets for the metadata service tests: no curl, and full
// control over what is sent (hostile requests included).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace podrt::metadata::testing {

struct HttpResponse {
  int status = -1;                             ///< -1: no parsable response
  std::map<std::string, std::string> headers;  ///< names in lowercase
  std::string body;
};

/// A connected socket to 127.0.0.1:port with a 5 s receive timeout, or an invalid fd.
inline UniqueFd connect_local(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  timeval timeout{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fd.reset();
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// Reads until the server closes the connection (or 5 s of silence) and parses the response.
inline HttpResponse read_response(int fd) {
  std::string raw;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  HttpResponse response;
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos) return response;
  response.status = std::stoi(raw.substr(9, 3));
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    size_t next = raw.find("\r\n", line);
    std::string header = raw.substr(line, next - line);
    size_t colon = header.find(':');
    if (colon != std::string::npos) {
      std::string name = header.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value = header.find_first_not_of(' ', colon + 1);
      response.headers[name] = value == std::string::npos ? "" : header.substr(value);
    }
    line = next + 2;
  }
  response.body = raw.substr(head_end + 4);
  return response;
}

inline HttpResponse http_exchange(uint16_t port, std::string_view request) {
  UniqueFd fd = connect_local(port);
  if (!fd || !send_all(fd.get(), request)) return {};
  return read_response(fd.get());
}

inline HttpResponse http_get(uint16_t port, const std::string& path,
                             const std::string& method = "GET") {
  return http_exchange(
      port, method + " " + path + " HTTP/1.1\r\nHost: metadata\r\nConnection: close\r\n\r\n");
}

inline HttpResponse http_post(
    uint16_t port, const std::string& path, std::string_view body,
    const std::string& content_type = "application/x-www-form-urlencoded") {
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: metadata\r\nConnection: close\r\n" +
                        "Content-Type: " + content_type +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  request += body;
  return http_exchange(port, request);
}

/// Form encoding: everything but unreserved characters as %XX.
inline std::string form_escape(std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace podrt::metadata::testing
