// docker:// pulls against a fake registry served in-process by libmicrohttpd on 127.0.0.1: the
// happy path, auth, manifest lists, and every way a registry can hand over bad or broken bytes.
#include "stage0/oci/registry_source.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/sys/file.h"
#include "common/unique_fd.h"
#include "stage0/oci/digest.h"
#include "stage0/oci/oci_manifest.h"
#include "stage0/oci/registry_auth.h"
#include "tests/support/command_runner.h"
#include "tests/unit/stage0/oci/sha256_of.h"
#include "tests/support/directory_entries.h"

namespace podrt::oci {
namespace {

using ::podrt::testing::directory_entries;

using ::podrt::oci::testing::sha256_of;

using nlohmann::json;
using podrt::testing::TempDir;

constexpr std::string_view kLayerType = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr std::string_view kDockerLayerType = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr const char* kToken = "secret-token";
constexpr const char* kRepository = "test/image";

/// How the fake answers one path.
struct Route {
  enum class Body { kWhole, kTruncated, kStalled };
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
  Body mode = Body::kWhole;
  /// With require_token: this many requests are refused even with the token (an expired one).
  int refuse_token_times = 0;
};

/// A registry with exact-path routes. With require_token, every /v2/ path wants
/// "Authorization: Bearer secret-token" and /token hands that token out.
class FakeRegistry {
 public:
  FakeRegistry() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, nullptr,
        nullptr, &FakeRegistry::on_request, this,  //
        MHD_OPTION_SOCK_ADDR, &address,            //
        MHD_OPTION_END);
    EXPECT_NE(daemon_, nullptr);
    if (daemon_ != nullptr) port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~FakeRegistry() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void set(const std::string& path, Route route) {
    std::lock_guard lock(mutex_);
    routes_[path] = std::move(route);
  }
  void require_token() { require_token_ = true; }
  /// Every /v2/ 401 challenges with this header value instead of the bearer one.
  void challenge_with(std::string value) { challenge_ = std::move(value); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int token_requests() {
    std::lock_guard lock(mutex_);
    return token_requests_;
  }
  std::string bearer_challenge() const {
    // A comma inside a quoted value, as the grammar allows.
    return "Bearer realm=\"http://" + host() +
           "/token\",service=\"fake,registry\",scope=\"repository:" + kRepository + ":pull\"";
  }

 private:
  struct Stream {
    FakeRegistry* registry;
    std::string bytes;
    Route::Body mode;
  };

  static MHD_Result on_request(void* self, MHD_Connection* connection, const char* url,
                               const char* /*method*/, const char* /*version*/,
                               const char* /*upload_data*/, size_t* /*upload_size*/,
                               void** /*state*/) {
    return static_cast<FakeRegistry*>(self)->handle(connection, url);
  }

  MHD_Result handle(MHD_Connection* connection, const std::string& path) {
    Route route;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(path);
      if (path == "/token") ++token_requests_;
    }
    if (path == "/token") {
      const char* service =
          MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "service");
      const char* scope = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "scope");
      bool right = service != nullptr && std::string(service) == "fake,registry" &&
                   scope != nullptr &&
                   std::string(scope) == std::string("repository:") + kRepository + ":pull";
      route.status = right ? 200 : 400;
      route.body = right ? json{{"token", kToken}}.dump() : "{}";
      return respond(connection, route);
    }
    if (require_token_ && path.starts_with("/v2/")) {
      const char* authorization =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization");
      bool expired = false;
      {
        std::lock_guard lock(mutex_);
        auto found = routes_.find(path);
        if (found != routes_.end() && found->second.refuse_token_times > 0) {
          --found->second.refuse_token_times;
          expired = true;
        }
      }
      if (expired || authorization == nullptr ||
          std::string(authorization) != std::string("Bearer ") + kToken) {
        route.status = 401;
        route.body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
        route.headers["WWW-Authenticate"] = challenge_.empty() ? bearer_challenge() : challenge_;
        return respond(connection, route);
      }
    }
    {
      std::lock_guard lock(mutex_);
      auto found = routes_.find(path);
      if (found != routes_.end()) {
        route = found->second;
      } else if (path == "/v2/") {
        route.body = "{}";
      } else {
        route.status = 404;
        route.body = R"({"errors":[{"code":"NOT_FOUND","message":"no such thing"}]})";
      }
    }
    return respond(connection, route);
  }

  MHD_Result respond(MHD_Connection* connection, const Route& route) {
    MHD_Response* response = nullptr;
    if (route.mode == Route::Body::kWhole) {
      response = MHD_create_response_from_buffer(
          route.body.size(), const_cast<char*>(route.body.data()), MHD_RESPMEM_MUST_COPY);
    } else {
      // Announces the whole body (plus some, when truncated) and then stops short.
      uint64_t announced = route.body.size() + (route.mode == Route::Body::kTruncated ? 100 : 0);
      auto* stream = new Stream{this, route.body, route.mode};
      response =
          MHD_create_response_from_callback(announced, 4096, &FakeRegistry::read_stream, stream,
                                            [](void* data) { delete static_cast<Stream*>(data); });
    }
    for (const auto& [name, value] : route.headers)
      MHD_add_response_header(response, name.c_str(), value.c_str());
    MHD_Result queued =
        MHD_queue_response(connection, static_cast<unsigned>(route.status), response);
    MHD_destroy_response(response);
    return queued;
  }

  /// Truncated: the body, then the connection closes. Stalled: one byte, then nothing until the
  /// fake is stopped (curl averages speed over ~5 s, so more bytes would delay the timeout).
  static ssize_t read_stream(void* data, uint64_t position, char* buffer, size_t max) {
    auto* stream = static_cast<Stream*>(data);
    size_t limit = stream->mode == Route::Body::kStalled ? std::min<size_t>(1, stream->bytes.size())
                                                         : stream->bytes.size();
    if (position < limit) {
      size_t count = std::min<size_t>(max, limit - position);
      std::memcpy(buffer, stream->bytes.data() + position, count);
      return static_cast<ssize_t>(count);
    }
    if (stream->mode == Route::Body::kStalled) {
      FakeRegistry* registry = stream->registry;
      std::unique_lock lock(registry->mutex_);
      registry->wake_.wait_for(lock, std::chrono::seconds(20), [&] { return registry->stopping_; });
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }

  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  bool require_token_ = false;
  std::string challenge_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, Route> routes_;
  std::vector<std::string> requests_;
  int token_requests_ = 0;
};

/// A tiny image: a config and two layers whose bytes are made up (nothing unpacks them here).
struct TestImage {
  std::string config = json{{"architecture", "amd64"},
                            {"os", "linux"},
                            {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}}
                           .dump();
  std::vector<std::string> layers = {std::string("first layer bytes ") + std::string(5000, 'x'),
                                     "second layer bytes"};
  std::string manifest;

  TestImage() {
    json layer_list = json::array();
    for (const std::string& layer : layers)
      layer_list.push_back(
          {{"mediaType", kLayerType}, {"digest", sha256_of(layer)}, {"size", layer.size()}});
    layer_list[1]["mediaType"] = kDockerLayerType;
    manifest = json{{"schemaVersion", 2},
                    {"mediaType", media_type::kOciManifest},
                    {"config",
                     {{"mediaType", media_type::kOciConfig},
                      {"digest", sha256_of(config)},
                      {"size", config.size()}}},
                    {"layers", layer_list}}
                   .dump();
  }
  std::string config_digest() const { return sha256_of(config); }
  std::string layer_digest(size_t index) const { return sha256_of(layers[index]); }
  std::string manifest_digest() const { return sha256_of(manifest); }
};

std::string blob_path(const std::string& digest) {
  return std::string("/v2/") + kRepository + "/blobs/" + digest;
}
std::string manifest_path(const std::string& reference) {
  return std::string("/v2/") + kRepository + "/manifests/" + reference;
}

class RegistrySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_dir_ = temp_.path() + "/work";
    ASSERT_TRUE(sys::make_directories(work_dir_));
    options_.allow_http = true;
    options_.connect_timeout_s = 2;
    options_.low_speed_timeout_s = 2;
    options_.progress = false;
  }

  /// Serves the test image under tag "v1": the manifest, the config, and the layers through a
  /// redirect to /storage/, as registries backed by object storage do.
  void serve_image() {
    Route manifest;
    manifest.body = image_.manifest;
    manifest.headers["Content-Type"] = std::string(media_type::kOciManifest);
    manifest.headers["Docker-Content-Digest"] = image_.manifest_digest();
    registry_.set(manifest_path("v1"), manifest);
    registry_.set(manifest_path(image_.manifest_digest()), manifest);
    serve_blob(image_.config_digest(), image_.config);
    for (size_t i = 0; i < image_.layers.size(); ++i) {
      std::string digest = image_.layer_digest(i);
      Route redirect;
      redirect.status = 307;
      redirect.headers["Location"] =
          "http://" + registry_.host() + "/storage/" + digest + "?signature=x";
      registry_.set(blob_path(digest), redirect);
      Route stored;
      stored.body = image_.layers[i];
      registry_.set("/storage/" + digest, stored);
    }
  }
  void serve_blob(const std::string& digest, const std::string& bytes) {
    Route route;
    route.body = bytes;
    registry_.set(blob_path(digest), route);
  }
  /// Replaces what a layer's URL answers (the redirect is dropped).
  void break_layer(size_t index, Route route) {
    registry_.set(blob_path(image_.layer_digest(index)), route);
  }

  RegistryReference reference(const std::string& suffix = ":v1") {
    auto parsed = parse_registry_reference(registry_.host() + "/" + kRepository + suffix);
    EXPECT_TRUE(parsed.has_value());
    return parsed.has_value() ? *parsed : RegistryReference{};
  }

  Result<FetchedImage> pull(const std::string& suffix = ":v1", const LayerLookup& have = nullptr) {
    return pull_from_registry(reference(suffix), options_, work_dir_, have);
  }

  /// Pulls expecting failure; returns the message, having checked work_dir was left empty.
  std::string failure(const std::string& suffix = ":v1") {
    auto pulled = pull(suffix);
    EXPECT_FALSE(pulled.has_value()) << "the pull succeeded";
    EXPECT_EQ(directory_entries(work_dir_), std::set<std::string>{}) << "files left in work_dir";
    if (pulled.has_value()) return "";
    std::string message = pulled.error().message();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }

  TempDir temp_;
  std::string work_dir_;
  RegistryOptions options_;
  FakeRegistry registry_;
  TestImage image_;
};

TEST_F(RegistrySourceTest, PullsAnImageOverHttp) {
  serve_image();
  auto pulled = pull();
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->source, "docker://" + registry_.host() + "/test/image:v1");
  EXPECT_EQ(pulled->name, registry_.host() + "/test/image");
  EXPECT_EQ(pulled->tag, "v1");
  EXPECT_EQ(pulled->manifest_digest, image_.manifest_digest());
  EXPECT_EQ(pulled->config_digest, image_.config_digest());
  EXPECT_EQ(pulled->config_json, image_.config);
  ASSERT_EQ(pulled->layers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const FetchedLayer& layer = pulled->layers[i];
    EXPECT_EQ(layer.digest, image_.layer_digest(i));
    EXPECT_EQ(layer.size, image_.layers[i].size());
    EXPECT_EQ(layer.path, work_dir_ + "/" + digest_file_name(layer.digest));
    auto content = sys::read_file(layer.path);
    ASSERT_TRUE(content.has_value());
    EXPECT_EQ(*content, image_.layers[i]);
  }
  EXPECT_EQ(pulled->layers[0].media_type, kLayerType);
  EXPECT_EQ(pulled->layers[1].media_type, kDockerLayerType);
  EXPECT_EQ(directory_entries(work_dir_).size(), 2u);
}

TEST_F(RegistrySourceTest, PullsByDigest) {
  serve_image();
  auto pulled = pull("@" + image_.manifest_digest());
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->tag, "");
  EXPECT_EQ(pulled->manifest_digest, image_.manifest_digest());
}

TEST_F(RegistrySourceTest, SkipsLayersTheStoreHas) {
  serve_image();
  std::string have = image_.layer_digest(0);
  auto pulled = pull(":v1", [&](const std::string& digest) { return digest == have; });
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->layers[0].path, "");
  EXPECT_EQ(pulled->layers[0].digest, have);
  EXPECT_NE(pulled->layers[1].path, "");
  EXPECT_EQ(directory_entries(work_dir_), std::set<std::string>{digest_file_name(image_.layer_digest(1))});
  for (const std::string& request : registry_.requests()) {
    EXPECT_EQ(request.find(have), std::string::npos)
        << "fetched the layer the store has: " << request;
  }
}

TEST_F(RegistrySourceTest, AnswersABearerChallenge) {
  serve_image();
  registry_.require_token();
  auto pulled = pull();
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(registry_.token_requests(), 1);  // one token, reused for the config and layers
  EXPECT_EQ(pulled->layers.size(), 2u);
}

TEST_F(RegistrySourceTest, AuthenticatesAgainWhenABlobIsRefused) {
  serve_image();
  registry_.require_token();
  options_.progress = true;  // the bar code runs; it draws nothing without a terminal
  Route config;
  config.body = image_.config;
  config.refuse_token_times = 1;
  registry_.set(blob_path(image_.config_digest()), config);
  auto pulled = pull();
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(registry_.token_requests(), 2);
}

TEST_F(RegistrySourceTest, GivesUpWhenTheNewTokenIsRefusedToo) {
  serve_image();
  registry_.require_token();
  Route config;
  config.body = image_.config;
  config.refuse_token_times = 2;
  registry_.set(blob_path(image_.config_digest()), config);
  std::string message = failure();
  EXPECT_NE(message.find("HTTP 401 Unauthorized (UNAUTHORIZED: authentication required)"),
            std::string::npos)
      << message;
  EXPECT_EQ(registry_.token_requests(), 2);
}

TEST_F(RegistrySourceTest, RefusesBasicAuth) {
  serve_image();
  registry_.require_token();
  registry_.challenge_with("Basic realm=\"registry\"");
  EXPECT_NE(failure().find("basic auth"), std::string::npos);
}

TEST_F(RegistrySourceTest, ReportsATokenServerError) {
  serve_image();
  registry_.require_token();
  registry_.challenge_with("Bearer realm=\"http://" + registry_.host() + "/no-token-here\"");
  std::string message = failure();
  EXPECT_NE(message.find("get a registry token from http://" + registry_.host() +
                         "/no-token-here: HTTP 404"),
            std::string::npos)
      << message;
}

TEST_F(RegistrySourceTest, ChoosesLinuxAmd64FromAManifestList) {
  serve_image();
  std::string arm_manifest = "{\"not\": \"served\"}";
  json list = {{"schemaVersion", 2},
               {"mediaType", media_type::kDockerManifestList},
               {"manifests",
                {{{"mediaType", media_type::kOciManifest},
                  {"digest", sha256_of(arm_manifest)},
                  {"size", arm_manifest.size()},
                  {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
                 {{"mediaType", media_type::kOciManifest},
                  {"digest", image_.manifest_digest()},
                  {"size", image_.manifest.size()},
                  {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  Route route;
  route.body = list.dump();
  route.headers["Content-Type"] = std::string(media_type::kDockerManifestList);
  registry_.set(manifest_path("multi"), route);
  auto pulled = pull(":multi");
  ASSERT_TRUE(pulled.has_value()) << pulled.error().message();
  EXPECT_EQ(pulled->tag, "multi");
  EXPECT_EQ(pulled->manifest_digest, image_.manifest_digest());
  EXPECT_EQ(pulled->layers.size(), 2u);
  for (const std::string& request : registry_.requests())
    EXPECT_EQ(request.find(sha256_of(arm_manifest)), std::string::npos) << request;
}

TEST_F(RegistrySourceTest, RefusesAManifestThatIsNotTheDigestAskedFor) {
  serve_image();
  std::string other = sha256_of("some other manifest");
  Route route;
  route.body = image_.manifest;
  route.headers["Content-Type"] = std::string(media_type::kOciManifest);
  registry_.set(manifest_path(other), route);
  std::string message = failure("@" + other);
  EXPECT_NE(
      message.find("digest mismatch: expected " + other + ", got " + image_.manifest_digest()),
      std::string::npos)
      << message;
}

TEST_F(RegistrySourceTest, RefusesADockerContentDigestThatDoesNotMatch) {
  serve_image();
  Route route;
  route.body = image_.manifest;
  route.headers["Content-Type"] = std::string(media_type::kOciManifest);
  route.headers["Docker-Content-Digest"] = sha256_of("something else");
  registry_.set(manifest_path("v1"), route);
  std::string message = failure();
  EXPECT_NE(message.find("Docker-Content-Digest"), std::string::npos) << message;
  EXPECT_NE(message.find("digest mismatch"), std::string::npos) << message;
}

TEST_F(RegistrySourceTest, RefusesABlobWithTheWrongDigest) {
  serve_image();
  Route route;
  route.body = image_.layers[1];
  route.body[0] ^= 1;  // same size, different bytes
  break_layer(1, route);
  std::string message = failure();
  EXPECT_NE(message.find("layer " + image_.layer_digest(1)), std::string::npos) << message;
  EXPECT_NE(message.find("digest mismatch"), std::string::npos) << message;
}

TEST_F(RegistrySourceTest, RefusesABlobLongerThanItsDescriptor) {
  serve_image();
  Route route;
  route.body = image_.layers[1] + "extra";
  break_layer(1, route);
  EXPECT_NE(failure().find("more bytes than the manifest's size"), std::string::npos);
}

TEST_F(RegistrySourceTest, RefusesAConfigWithTheWrongDigest) {
  serve_image();
  std::string config = image_.config;
  config[0] = ' ';
  serve_blob(image_.config_digest(), config);
  std::string message = failure();
  EXPECT_NE(message.find("config " + image_.config_digest()), std::string::npos) << message;
  EXPECT_NE(message.find("digest mismatch"), std::string::npos) << message;
}

TEST_F(RegistrySourceTest, ReportsAServerErrorOnABlob) {
  serve_image();
  Route route;
  route.status = 500;
  route.body = R"({"errors":[{"code":"UNKNOWN","message":"disk on fire"}]})";
  break_layer(1, route);
  std::string message = failure();
  EXPECT_NE(message.find("HTTP 500 Internal Server Error (UNKNOWN: disk on fire)"),
            std::string::npos)
      << message;
}

TEST_F(RegistrySourceTest, ReportsAMissingManifest) {
  serve_image();
  std::string message = failure(":nope");
  EXPECT_NE(message.find("manifests/nope: HTTP 404 Not Found (NOT_FOUND: no such thing)"),
            std::string::npos)
      << message;
}

TEST_F(RegistrySourceTest, ReportsATruncatedBlob) {
  serve_image();
  Route route;
  route.body = image_.layers[1];
  route.mode = Route::Body::kTruncated;
  break_layer(1, route);
  std::string message = failure();
  std::string size = std::to_string(image_.layers[1].size());
  std::string announced = std::to_string(image_.layers[1].size() + 100);
  EXPECT_NE(message.find("transfer truncated (got " + size + " of " + announced + " bytes)"),
            std::string::npos)
      << message;
}

TEST_F(RegistrySourceTest, TimesOutOnAStalledBlob) {
  serve_image();
  Route route;
  route.body = image_.layers[0];
  route.mode = Route::Body::kStalled;
  break_layer(0, route);
  auto start = std::chrono::steady_clock::now();
  std::string message = failure();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(message.find("timed out"), std::string::npos) << message;
  EXPECT_LT(took, std::chrono::seconds(6));
}

TEST_F(RegistrySourceTest, HttpsOnlyUnlessAllowedWithAHint) {
  serve_image();
  options_.allow_http = false;
  std::string message = failure();
  EXPECT_NE(message.find("https://" + registry_.host() + "/v2/"), std::string::npos) << message;
  EXPECT_TRUE(message.ends_with("(a plain-HTTP registry needs --insecure-options=http)"))
      << message;
  for (const std::string& request : registry_.requests())
    EXPECT_FALSE(request.starts_with("/v2/test")) << "spoke plain HTTP: " << request;
}

TEST_F(RegistrySourceTest, ReportsARefusedConnection) {
  // A port nothing listens on: bind one, learn its number, close it.
  UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t size = sizeof address;
  ASSERT_EQ(::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &size), 0);
  std::string host = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  socket_fd.reset();
  auto parsed = parse_registry_reference(host + "/test/image:v1");
  ASSERT_TRUE(parsed.has_value());
  auto pulled = pull_from_registry(*parsed, options_, work_dir_, nullptr);
  ASSERT_FALSE(pulled.has_value());
  EXPECT_EQ(pulled.error().message(), "http://" + host + "/v2/: Connection refused");
}

TEST(RegistryAuthChallengeTest, ParsesBearerParameters) {
  auto challenge = parse_bearer_challenge(
      R"(bearer realm="https://auth.example.com/token",service="registry,one" , scope="repository:a/b:pull,push",error="insufficient_scope")");
  ASSERT_TRUE(challenge.has_value()) << challenge.error().message();
  EXPECT_EQ(challenge->realm, "https://auth.example.com/token");
  EXPECT_EQ(challenge->service, "registry,one");
  EXPECT_EQ(challenge->scope, "repository:a/b:pull,push");

  auto bare = parse_bearer_challenge(R"(Bearer realm=http://h/t,service=s)");
  ASSERT_TRUE(bare.has_value()) << bare.error().message();
  EXPECT_EQ(bare->realm, "http://h/t");
  EXPECT_EQ(bare->service, "s");
  EXPECT_EQ(bare->scope, "");

  auto escaped = parse_bearer_challenge(R"(Bearer realm="http://h/\"t\"")");
  ASSERT_TRUE(escaped.has_value()) << escaped.error().message();
  EXPECT_EQ(escaped->realm, "http://h/\"t\"");
}

TEST(RegistryAuthChallengeTest, RefusesWhatItCannotAnswer) {
  auto basic = parse_bearer_challenge(R"(BASIC realm="x")");
  ASSERT_FALSE(basic.has_value());
  EXPECT_NE(basic.error().message().find("basic auth"), std::string::npos);
  EXPECT_FALSE(parse_bearer_challenge(R"(Negotiate)").has_value());
  EXPECT_FALSE(parse_bearer_challenge(R"(Bearer service="s")").has_value());  // no realm
  EXPECT_FALSE(parse_bearer_challenge(R"(Bearer realm="unterminated)").has_value());
  EXPECT_FALSE(parse_bearer_challenge(R"(Bearer realm)").has_value());
}

}  // namespace
}  // namespace podrt::oci
