#include "common/metadata/metadata_routes.h"

#include <algorithm>
#include <map>

#include "common/metadata/form_decode.h"

namespace podrt::metadata {
namespace {

constexpr std::string_view kPrefix = "/acMetadata/v1/";
constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=us-ascii";

HttpReply text(unsigned status, std::string body) { return {status, kText, std::move(body), {}}; }
HttpReply not_found() { return text(404, "not found\n"); }

bool is_get(std::string_view method) { return method == "GET" || method == "HEAD"; }

/// A GET endpoint's reply, or 405 for any other method.
HttpReply get_only(std::string_view method, const char* content_type, const std::string& body) {
  if (!is_get(method)) return {405, kText, "method not allowed\n", "GET, HEAD"};
  return {200, content_type, body, {}};
}

bool is_urlencoded_form(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  return media.size() == kForm.size() &&
         std::equal(media.begin(), media.end(), kForm.begin(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; });
}

/// The form of a POST endpoint, or the reply that refuses the request.
HttpReply read_form(const HttpRequest& request, std::map<std::string, std::string>& fields) {
  if (request.method != "POST") return {405, kText, "method not allowed\n", "POST"};
  if (!is_urlencoded_form(request.content_type))
    return text(415, "expected an application/x-www-form-urlencoded form\n");
  auto decoded = decode_form(request.body);
  if (!decoded) return text(400, decoded.error().message() + "\n");
  fields = std::move(*decoded);
  return {0, {}, {}, {}};
}

HttpReply sign(const PodMetadata& pod, const IdentityKey& key, const HttpRequest& request) {
  std::map<std::string, std::string> fields;
  if (HttpReply refused = read_form(request, fields); refused.status != 0) return refused;
  auto content = fields.find("content");
  if (content == fields.end()) return text(400, "form field \"content\" missing\n");
  std::string signature = key.sign(pod.uuid, content->second);
  if (signature.empty()) return text(500, "signing failed\n");
  return text(200, std::move(signature));
}

HttpReply verify(const IdentityKey& key, const HttpRequest& request) {
  std::map<std::string, std::string> fields;
  if (HttpReply refused = read_form(request, fields); refused.status != 0) return refused;
  auto uuid = fields.find("uuid");
  if (uuid == fields.end()) uuid = fields.find("uid");  // the field's name in rkt's first version
  auto content = fields.find("content");
  auto signature = fields.find("signature");
  if (uuid == fields.end() || content == fields.end() || signature == fields.end())
    return text(400, "form fields \"uuid\", \"content\" and \"signature\" are required\n");
  // Base64 has no spaces: a space is a '+' that the client forgot to %-escape.
  std::replace(signature->second.begin(), signature->second.end(), ' ', '+');
  if (!key.verify(uuid->second, content->second, signature->second))
    return text(403, "signature does not match\n");
  return text(200, "");
}

HttpReply app_endpoint(const PodMetadata& pod, std::string_view method, std::string_view rest) {
  // rest: "NAME/annotations", "NAME/image/manifest" or "NAME/image/id"; an app name (an AC name)
  // never contains '/'.
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return not_found();
  std::string_view entry = rest.substr(slash + 1);
  if (entry != "annotations" && entry != "image/manifest" && entry != "image/id")
    return not_found();
  auto app = pod.apps.find(std::string(rest.substr(0, slash)));
  if (app == pod.apps.end()) return text(404, "no such app in this pod\n");
  if (entry == "annotations") return get_only(method, kJson, app->second.annotations_json);
  if (entry == "image/manifest") return get_only(method, kJson, app->second.image_manifest_json);
  return get_only(method, kText, app->second.image_id);
}

}  // namespace

HttpReply route_metadata_request(const PodMetadata& pod, const IdentityKey& key,
                                 const HttpRequest& request) {
  if (request.path.substr(0, kPrefix.size()) != kPrefix) return not_found();
  std::string_view endpoint = request.path.substr(kPrefix.size());
  if (endpoint == "pod/annotations") return get_only(request.method, kJson, pod.annotations_json);
  if (endpoint == "pod/manifest") return get_only(request.method, kJson, pod.pod_manifest_json);
  if (endpoint == "pod/uuid") return get_only(request.method, kText, pod.uuid);
  if (endpoint == "pod/hmac/sign") return sign(pod, key, request);
  if (endpoint == "pod/hmac/verify") return verify(key, request);
  constexpr std::string_view kApps = "apps/";
  if (endpoint.substr(0, kApps.size()) == kApps)
    return app_endpoint(pod, request.method, endpoint.substr(kApps.size()));
  return not_found();
}

}  // namespace podrt::metadata
