// libcurl behind HttpClient. Callbacks are noexcept C functions; anything they cannot do is
// recorded in the Transfer and reported once curl_easy_perform returns.
#include "stage0/oci/http_client.h"

#include <strings.h>

#include <cerrno>
#include <charconv>

namespace podrt::oci {
namespace {

constexpr long kMaxRedirects = 10;
/// How much of a non-2xx body is kept for the error message.
constexpr size_t kMaxErrorBodyBytes = 4096;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

/// curl_global_init is not thread-safe and must run once per process: a function-local static
/// gives both (C++ guarantees one thread-safe initialization).
Result<void> init_curl_once() {
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK)
    return Error::invalid(std::string("initialize libcurl: ") + curl_easy_strerror(result));
  return ok();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// The URL for a message: without the query, which for redirected blobs holds signatures.
std::string shown_url(std::string_view url) {
  size_t query = url.find_first_of("?#");
  return std::string(url.substr(0, query));
}

/// One request's state, shared with the C callbacks.
struct Transfer {
  HttpResponse response;
  const HttpClient::BodySink* sink = nullptr;
  uint64_t max_body_bytes = 0;
  std::optional<Error> error;  ///< why a callback stopped the transfer
};

/// A new status line starts a new response (each redirect hop, each 401 before a retry):
/// only the last one's headers are kept.
void take_header_line(Transfer& transfer, std::string_view line) {
  line = trim(line);
  if (line.empty()) return;
  if (line.starts_with("HTTP/")) {
    transfer.response.headers.clear();
    transfer.response.status = 0;
    transfer.response.reason.clear();
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return;
    std::string_view rest = line.substr(space + 1);
    long status = 0;
    auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), status);
    if (error == std::errc()) transfer.response.status = status;
    transfer.response.reason =
        std::string(trim(std::string_view(end, rest.data() + rest.size() - end)));
    return;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  transfer.response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                         std::string(trim(line.substr(colon + 1))));
}

size_t on_header(char* data, size_t size, size_t count, void* user) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  try {
    take_header_line(transfer, std::string_view(data, size * count));
    return size * count;
  } catch (...) {  // bad_alloc: stop the transfer rather than throw through C
    transfer.error = Error::invalid("out of memory reading HTTP headers");
    return 0;
  }
}

size_t on_body(char* data, size_t size, size_t count, void* user) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  std::string_view chunk(data, size * count);
  try {
    HttpResponse& response = transfer.response;
    if (response.status < 200 || response.status > 299) {
      size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, response.body.size());
      response.body.append(chunk.substr(0, room));
      return chunk.size();
    }
    if (transfer.sink != nullptr) {
      Result<void> taken = (*transfer.sink)(chunk);
      if (!taken) {
        transfer.error = std::move(taken).error();
        return 0;
      }
      return chunk.size();
    }
    if (response.body.size() + chunk.size() > transfer.max_body_bytes) {
      transfer.error = Error::invalid(
          "response larger than " + std::to_string(transfer.max_body_bytes) + " bytes (the limit)");
      return 0;
    }
    response.body.append(chunk);
    return chunk.size();
  } catch (...) {
    transfer.error = Error::invalid("out of memory reading an HTTP response");
    return 0;
  }
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

std::string HttpResponse::content_type() const {
  std::string type = header("Content-Type").value_or("");
  return std::string(trim(std::string_view(type).substr(0, type.find(';'))));
}

std::optional<uint64_t> HttpResponse::content_length() const {
  std::optional<std::string> text = header("Content-Length");
  if (!text || text->empty()) return std::nullopt;
  uint64_t length = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), length);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return length;
}

std::string HttpResponse::describe_status() const {
  std::string text = "HTTP " + std::to_string(status);
  if (!reason.empty()) text += " " + reason;
  return text;
}

Result<HttpClient> HttpClient::create(const HttpTimeouts& timeouts) {
  PODRT_TRY(init_curl_once());
  CURL* handle = curl_easy_init();
  if (handle == nullptr) return Error::invalid("initialize libcurl: curl_easy_init failed");
  return HttpClient(handle, timeouts);
}

Result<HttpResponse> HttpClient::get_string(const std::string& url,
                                            const std::vector<std::string>& headers,
                                            uint64_t max_body_bytes) {
  return perform(url, headers, nullptr, max_body_bytes);
}

Result<HttpResponse> HttpClient::get_streamed(const std::string& url,
                                              const std::vector<std::string>& headers,
                                              const BodySink& sink) {
  return perform(url, headers, &sink, 0);
}

Result<HttpResponse> HttpClient::perform(const std::string& url,
                                         const std::vector<std::string>& headers,
                                         const BodySink* sink, uint64_t max_body_bytes) {
  last_failure_ = TransferFailure::kOther;
  CURL* handle = handle_.get();
  // Reset drops the previous request's options but keeps the connection and DNS caches.
  curl_easy_reset(handle);

  HeaderList header_list;
  for (const std::string& line : headers) {
    curl_slist* extended = curl_slist_append(header_list.get(), line.c_str());
    if (extended == nullptr) return Error::invalid("GET " + shown_url(url) + ": out of memory");
    (void)header_list.release();  // curl_slist_append extended the same list
    header_list.reset(extended);
  }

  Transfer transfer;
  transfer.sink = sink;
  transfer.max_body_bytes = max_body_bytes;
  char error_text[CURL_ERROR_SIZE] = {};

  CURLcode setup = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (setup == CURLE_OK) setup = curl_easy_setopt(handle, option, value);
  };
  set(CURLOPT_URL, url.c_str());
  set(CURLOPT_HTTPGET, 1L);
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: podrt has threads
  set(CURLOPT_ERRORBUFFER, error_text);
  // Registries redirect blob GETs to object storage; nothing but http(s) may be followed.
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 1L);
  set(CURLOPT_MAXREDIRS, kMaxRedirects);
  set(CURLOPT_CONNECTTIMEOUT, timeouts_.connect_timeout_s);
  set(CURLOPT_LOW_SPEED_LIMIT, 1L);
  set(CURLOPT_LOW_SPEED_TIME, timeouts_.low_speed_timeout_s);
  set(CURLOPT_USERAGENT, "podrt");
  set(CURLOPT_HTTPHEADER, header_list.get());
  set(CURLOPT_HEADERFUNCTION, &on_header);
  set(CURLOPT_HEADERDATA, &transfer);
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_WRITEDATA, &transfer);
  if (setup != CURLE_OK)
    return Error::invalid("GET " + shown_url(url) + ": libcurl: " + curl_easy_strerror(setup));

  CURLcode result = curl_easy_perform(handle);
  char* effective = nullptr;
  curl_easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &effective);
  std::string where = shown_url(effective != nullptr ? effective : url);
  transfer.response.url = effective != nullptr ? effective : url;

  if (result == CURLE_OK) {
    last_failure_ = TransferFailure::kNone;
    return std::move(transfer.response);
  }
  if (transfer.error) return std::move(*transfer.error).with_context(where);

  std::string detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(result);
  long os_errno = 0;
  curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
  switch (result) {
    case CURLE_COULDNT_RESOLVE_HOST:
      last_failure_ = TransferFailure::kConnect;
      return Error::invalid(where + ": could not resolve the host name");
    case CURLE_COULDNT_CONNECT:
      last_failure_ = TransferFailure::kConnect;
      if (os_errno != 0) return Error::with_code(static_cast<int>(os_errno), where);
      return Error::invalid(where + ": " + detail);
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_after = 0;
      curl_easy_getinfo(handle, CURLINFO_CONNECT_TIME_T, &connected_after);
      if (connected_after == 0) {
        last_failure_ = TransferFailure::kConnect;
        return Error::invalid(where + ": timed out connecting (after " +
                              std::to_string(timeouts_.connect_timeout_s) + " s)");
      }
      last_failure_ = TransferFailure::kTimeout;
      return Error::invalid(where + ": timed out (less than 1 byte/s for " +
                            std::to_string(timeouts_.low_speed_timeout_s) + " s)");
    }
    case CURLE_PARTIAL_FILE: {
      last_failure_ = TransferFailure::kTruncated;
      curl_off_t got = 0;
      curl_off_t expected = -1;
      curl_easy_getinfo(handle, CURLINFO_SIZE_DOWNLOAD_T, &got);
      curl_easy_getinfo(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
      std::string of = expected >= 0 ? " of " + std::to_string(expected) : "";
      return Error::invalid(where + ": transfer truncated (got " + std::to_string(got) + of +
                            " bytes)");
    }
    case CURLE_SSL_CONNECT_ERROR:
      last_failure_ = TransferFailure::kTls;
      return Error::invalid(where + ": TLS handshake failed: " + detail);
    case CURLE_PEER_FAILED_VERIFICATION:
      last_failure_ = TransferFailure::kCertificate;
      return Error::invalid(where + ": TLS certificate not trusted: " + detail);
    case CURLE_TOO_MANY_REDIRECTS:
      return Error::invalid(where + ": more than " + std::to_string(kMaxRedirects) + " redirects");
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error::invalid(where + ": only http and https URLs can be fetched (" + detail + ")");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno != 0) return Error::with_code(static_cast<int>(os_errno), where);
      return Error::invalid(where + ": " + detail);
    default:
      return Error::invalid(where + ": " + detail);
  }
}

}  // namespace podrt::oci
