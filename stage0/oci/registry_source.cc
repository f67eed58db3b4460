// A registry pull, one HTTP connection for all of it. The registry is not trusted: manifests
// and blobs are checked against the digests that name them, sizes against their descriptors.
#include "stage0/oci/registry_source.h"

#include <unistd.h>

#include <map>
#include <optional>
#include <vector>

#include "common/appc/json_fields.h"
#include "stage0/image/progress_bar.h"
#include "stage0/oci/blob_copy.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/http_client.h"
#include "stage0/oci/oci_manifest.h"
#include "stage0/oci/registry_auth.h"

namespace podrt::oci {
namespace {

constexpr uint64_t kMaxManifestBytes = 4 << 20;
constexpr uint64_t kMaxConfigBytes = 4 << 20;
constexpr uint64_t kMaxPingBytes = 64 << 10;
constexpr std::string_view kPlatformOs = "linux";
constexpr std::string_view kPlatformArchitecture = "amd64";
constexpr std::string_view kHttpHint = " (a plain-HTTP registry needs --insecure-options=http)";

/// "sha256:0123456789ab", for progress labels.
std::string short_digest(const std::string& digest) { return digest.substr(0, 19); }

/// Text from the registry, made safe for a one-line message.
std::string one_line(std::string_view text, size_t max_chars = 200) {
  std::string shown(text.substr(0, max_chars));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > max_chars) shown += "...";
  return shown;
}

/// The distribution spec's error body: {"errors": [{"code": "...", "message": "..."}]}.
std::string registry_error_text(const std::string& body) {
  auto document = appc::parse_json_document(body);
  if (!document || !document->is_object()) return "";
  const nlohmann::json* errors = appc::find_member(*document, "errors");
  if (errors == nullptr || !errors->is_array() || errors->empty() || !(*errors)[0].is_object())
    return "";
  const nlohmann::json& first = (*errors)[0];
  std::string text;
  for (std::string_view key : {"code", "message"}) {
    const nlohmann::json* value = appc::find_member(first, key);
    if (value == nullptr || !value->is_string()) continue;
    if (!text.empty()) text += ": ";
    text += one_line(value->get_ref<const std::string&>());
  }
  return text;
}

/// "GET <url>: HTTP 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)".
Error status_error(const HttpResponse& response) {
  std::string url = response.url.substr(0, response.url.find('?'));
  std::string text = "GET " + url + ": " + response.describe_status();
  std::string registry_text = registry_error_text(response.body);
  if (!registry_text.empty()) text += " (" + registry_text + ")";
  if (response.status == 401 || response.status == 403)
    text += "; the repository may not exist, or may need credentials podrt cannot send";
  return Error::invalid(text);
}

/// The layer files this pull wrote into work_dir, removed unless the pull succeeds.
class DownloadedFiles {
 public:
  DownloadedFiles() = default;
  DownloadedFiles(const DownloadedFiles&) = delete;
  DownloadedFiles& operator=(const DownloadedFiles&) = delete;
  ~DownloadedFiles() {
    for (const auto& [digest, path] : paths_) ::unlink(path.c_str());
  }
  void add(const std::string& digest, std::string path) { paths_[digest] = std::move(path); }
  /// The file already downloaded for this digest (a manifest may list a layer twice).
  const std::string* find(const std::string& digest) const {
    auto found = paths_.find(digest);
    return found == paths_.end() ? nullptr : &found->second;
  }
  void keep() { paths_.clear(); }

 private:
  std::map<std::string, std::string> paths_;
};

/// A manifest or index as fetched, verified against the digest it was asked for.
struct FetchedDocument {
  std::string bytes;
  std::string content_type;
  std::string digest;  ///< sha256 of bytes
};

class RegistryPull {
 public:
  RegistryPull(const RegistryReference& ref, const RegistryOptions& options, HttpClient client)
      : ref_(ref), options_(options), client_(std::move(client)) {}

  Result<FetchedImage> run(const std::string& work_dir, const LayerLookup& have_layer) {
    PODRT_TRY(choose_scheme());
    const std::string& reference = ref_.digest.empty() ? ref_.tag : ref_.digest;
    FetchedDocument document = PODRT_TRY(fetch_manifest(reference, ref_.digest, ""));
    std::string manifest_what = "manifest of " + ref_.to_string();
    if (PODRT_TRY_CONTEXT(document_is_index(document.bytes, document.content_type),
                          manifest_what)) {
      ImageIndex index =
          PODRT_TRY_CONTEXT(parse_index(document.bytes, document.content_type), manifest_what);
      Descriptor chosen = PODRT_TRY_CONTEXT(
          choose_platform(index, kPlatformOs, kPlatformArchitecture), ref_.to_string());
      document = PODRT_TRY(fetch_manifest(chosen.digest, chosen.digest, chosen.media_type));
      manifest_what = "manifest " + chosen.digest + " (" + std::string(kPlatformOs) + "/" +
                      std::string(kPlatformArchitecture) + ") of " + ref_.to_string();
      if (document.bytes.size() != chosen.size) {
        return Error::invalid(manifest_what + ": " + std::to_string(document.bytes.size()) +
                              " bytes, but the index says " + std::to_string(chosen.size));
      }
      if (PODRT_TRY_CONTEXT(document_is_index(document.bytes, document.content_type),
                            manifest_what))
        return Error::invalid(manifest_what + ": an index inside an index is not supported");
    }
    ImageManifest manifest =
        PODRT_TRY_CONTEXT(parse_manifest(document.bytes, document.content_type), manifest_what);

    FetchedImage image;
    image.source = "docker://" + ref_.to_string();
    image.name = ref_.host + "/" + ref_.repository;
    image.tag = ref_.tag;
    image.manifest_digest = document.digest;
    image.config_digest = manifest.config.digest;
    image.config_json = PODRT_TRY(fetch_config(manifest.config));

    DownloadedFiles downloaded;
    for (const Descriptor& layer : manifest.layers) {
      FetchedLayer fetched;
      fetched.digest = layer.digest;
      fetched.media_type = layer.media_type;
      fetched.size = layer.size;
      if (const std::string* path = downloaded.find(layer.digest)) {
        fetched.path = *path;
      } else if (!have_layer || !have_layer(layer.digest)) {
        fetched.path = work_dir + "/" + digest_file_name(layer.digest);
        PODRT_TRY(download_layer(layer, fetched.path));
        downloaded.add(layer.digest, fetched.path);
      }
      image.layers.push_back(std::move(fetched));
    }
    downloaded.keep();
    return image;
  }

 private:
  /// Pings GET /v2/ (the spec's version check) to learn which scheme the registry speaks:
  /// https, else — only with allow_http — plain http. Any HTTP answer, 401 included, will do.
  Result<void> choose_scheme() {
    base_url_ = "https://" + ref_.host;
    auto https = client_.get_string(base_url_ + "/v2/", {}, kMaxPingBytes);
    if (https) return ok();
    TransferFailure failure = client_.last_failure();
    bool not_tls = failure == TransferFailure::kConnect || failure == TransferFailure::kTls;
    if (!not_tls) return std::move(https).error();
    if (!options_.allow_http)
      return Error::invalid(https.error().message() + std::string(kHttpHint));
    base_url_ = "http://" + ref_.host;
    PODRT_TRY(client_.get_string(base_url_ + "/v2/", {}, kMaxPingBytes));
    return ok();
  }

  /// GETs a path below /v2/<name>/ with the token, answering a 401 by authenticating once
  /// (the first time, or again when a token has expired). `sink` null: the body is returned.
  Result<HttpResponse> get(const std::string& path, const std::vector<std::string>& headers,
                           const HttpClient::BodySink* sink, uint64_t max_bytes) {
    std::string url = base_url_ + "/v2/" + ref_.repository + "/" + path;
    for (bool authenticated = false;; authenticated = true) {
      std::vector<std::string> sent = headers;
      if (!token_.empty()) sent.push_back("Authorization: Bearer " + token_);
      HttpResponse response = PODRT_TRY(sink != nullptr ? client_.get_streamed(url, sent, *sink)
                                                        : client_.get_string(url, sent, max_bytes));
      if (response.status != 401 || authenticated) return response;
      std::optional<std::string> challenge_text = response.header("WWW-Authenticate");
      if (!challenge_text) return status_error(response);
      BearerChallenge challenge =
          PODRT_TRY_CONTEXT(parse_bearer_challenge(*challenge_text), "registry " + ref_.host);
      token_ = PODRT_TRY(fetch_bearer_token(client_, challenge, ref_.repository));
    }
  }

  /// GETs manifests/<reference>; `expected_digest` "" when pulled by tag. The registry's own
  /// Docker-Content-Digest must match the bytes too, when it sends one.
  Result<FetchedDocument> fetch_manifest(const std::string& reference,
                                         const std::string& expected_digest,
                                         const std::string& descriptor_media_type) {
    std::vector<std::string> headers = {"Accept: " + accepted_manifest_types()};
    HttpResponse response =
        PODRT_TRY(get("manifests/" + reference, headers, nullptr, kMaxManifestBytes));
    if (response.status != 200) return status_error(response);
    std::string what = "manifest " + ref_.host + "/" + ref_.repository + ":" + reference;
    FetchedDocument document;
    Sha256 sha;
    sha.update(response.body);
    document.digest = sha.digest();
    if (!expected_digest.empty()) PODRT_TRY(expect_digest(what, expected_digest, document.digest));
    std::optional<std::string> claimed = response.header("Docker-Content-Digest");
    // Only a sha256 claim can be checked; podrt does not compute other algorithms.
    if (claimed && claimed->starts_with("sha256:")) {
      std::string claimed_digest =
          PODRT_TRY_CONTEXT(parse_digest(*claimed), what + ": Docker-Content-Digest header");
      PODRT_TRY(expect_digest(what + " (Docker-Content-Digest)", claimed_digest, document.digest));
    }
    document.content_type = response.content_type();
    // A registry that sends no useful type leaves the document's own mediaType to decide.
    if (document.content_type.empty() || document.content_type == "application/json" ||
        document.content_type == "application/octet-stream" ||
        document.content_type == "text/plain")
      document.content_type = descriptor_media_type;
    document.bytes = std::move(response.body);
    return document;
  }

  Result<std::string> fetch_config(const Descriptor& config) {
    std::string what = "config " + config.digest + " of " + ref_.to_string();
    if (config.size > kMaxConfigBytes) {
      return Error::invalid(what + ": " + std::to_string(config.size) +
                            " bytes, more than the limit of " + std::to_string(kMaxConfigBytes));
    }
    HttpResponse response = PODRT_TRY(get("blobs/" + config.digest, {}, nullptr, kMaxConfigBytes));
    if (response.status != 200) return status_error(response);
    if (response.body.size() != config.size) {
      return Error::invalid(what + ": " + std::to_string(response.body.size()) +
                            " bytes, but the manifest says " + std::to_string(config.size));
    }
    Sha256 sha;
    sha.update(response.body);
    PODRT_TRY(expect_digest(what, config.digest, sha.digest()));
    return std::move(response.body);
  }

  /// Streams a layer blob into `path`, hashing it on the way; the file exists afterwards only
  /// when every check passed.
  Result<void> download_layer(const Descriptor& layer, const std::string& path) {
    std::string what = "layer " + layer.digest + " of " + ref_.to_string();
    if (layer.size > options_.max_blob_bytes) {
      return Error::invalid(what + ": " + std::to_string(layer.size) +
                            " bytes, more than the limit of " +
                            std::to_string(options_.max_blob_bytes));
    }
    VerifiedBlobWriter writer =
        PODRT_TRY_CONTEXT(VerifiedBlobWriter::create(path, layer.digest, layer.size), what);
    std::optional<image::ProgressBar> bar;
    if (options_.progress) bar.emplace(short_digest(layer.digest), layer.size);
    HttpClient::BodySink sink = [&](std::string_view chunk) -> Result<void> {
      if (chunk.size() > layer.size - writer.bytes_written())
        return Error::invalid("more bytes than the manifest's size of " +
                              std::to_string(layer.size));
      PODRT_TRY(writer.write(chunk));
      if (bar) bar->update(writer.bytes_written());
      return ok();
    };
    HttpResponse response = PODRT_TRY_CONTEXT(get("blobs/" + layer.digest, {}, &sink, 0), what);
    if (response.status != 200) return status_error(response).with_context(what);
    if (writer.bytes_written() != layer.size) {
      return Error::invalid(what + ": " + std::to_string(writer.bytes_written()) +
                            " bytes, but the manifest says " + std::to_string(layer.size));
    }
    PODRT_TRY_CONTEXT(writer.finish(), what);
    return ok();
  }

  const RegistryReference& ref_;
  const RegistryOptions& options_;
  HttpClient client_;
  std::string base_url_;
  std::string token_;  ///< the bearer token once one was needed, reused for every later request
};

}  // namespace

Result<FetchedImage> pull_from_registry(const RegistryReference& ref,
                                        const RegistryOptions& options, const std::string& work_dir,
                                        const LayerLookup& have_layer) {
  HttpTimeouts timeouts;
  timeouts.connect_timeout_s = options.connect_timeout_s;
  timeouts.low_speed_timeout_s = options.low_speed_timeout_s;
  HttpClient client = PODRT_TRY(HttpClient::create(timeouts));
  RegistryPull pull(ref, options, std::move(client));
  return pull.run(work_dir, have_layer);
}

}  // namespace podrt::oci
