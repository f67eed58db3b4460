// HttpClient: the few HTTP GETs a registry pull makes, over libcurl, with errors as one line
// ("http://127.0.0.1:5000/v2/: Connection refused") and timeouts that catch stalled servers.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace podrt::oci {

struct HttpTimeouts {
  long connect_timeout_s = 30;
  /// A transfer slower than 1 byte/s for this long is abandoned as "timed out".
  long low_speed_timeout_s = 30;
};

/// The final response (after redirects): status, headers and, for get_string, the body.
struct HttpResponse {
  long status = 0;
  std::string reason;  ///< the status line's reason phrase ("Not Found"); HTTP/2 has none
  std::string url;     ///< the URL that answered (the last redirect's target)
  std::vector<std::pair<std::string, std::string>> headers;  ///< in order, names as sent
  /// The body of a 2xx answer from get_string; for other statuses (either call) its first
  /// kilobytes, kept for the error message.
  std::string body;

  /// The first header of that name, compared case-insensitively.
  std::optional<std::string> header(std::string_view name) const;
  /// Content-Type without parameters ("application/json; charset=utf-8" -> "application/json").
  std::string content_type() const;
  /// Content-Length, when sent and a number.
  std::optional<uint64_t> content_length() const;
  /// "HTTP 404 Not Found" ("HTTP 404" when no reason phrase was sent).
  std::string describe_status() const;
};

/// Why a request failed below HTTP, for callers that explain some failures further.
/// kTls is a failed handshake (a plain-HTTP server answers https like that); an untrusted
/// certificate is kCertificate.
enum class TransferFailure { kNone, kConnect, kTls, kCertificate, kTimeout, kTruncated, kOther };

/// One libcurl easy handle, reused so requests to the same host share a connection.
/// Redirects are followed, to http and https URLs only. Not thread-safe.
class HttpClient {
 public:
  /// Receives a 2xx body in pieces; an error aborts the transfer and is what get_streamed returns.
  using BodySink = std::function<Result<void>(std::string_view chunk)>;

  static Result<HttpClient> create(const HttpTimeouts& timeouts);

  /// GETs `url` with `headers` ("Name: value"); a 2xx body longer than `max_body_bytes` fails.
  Result<HttpResponse> get_string(const std::string& url, const std::vector<std::string>& headers,
                                  uint64_t max_body_bytes);
  /// GETs `url`, handing a 2xx body to `sink` as it arrives (other statuses never reach it).
  Result<HttpResponse> get_streamed(const std::string& url, const std::vector<std::string>& headers,
                                    const BodySink& sink);

  /// What the last failed request ran into; kNone after a request that got an answer.
  TransferFailure last_failure() const { return last_failure_; }

 private:
  struct EasyDeleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  HttpClient(CURL* handle, const HttpTimeouts& timeouts) : handle_(handle), timeouts_(timeouts) {}

  Result<HttpResponse> perform(const std::string& url, const std::vector<std::string>& headers,
                               const BodySink* sink, uint64_t max_body_bytes);

  std::unique_ptr<CURL, EasyDeleter> handle_;
  HttpTimeouts timeouts_;
  TransferFailure last_failure_ = TransferFailure::kNone;
};

}  // namespace podrt::oci
