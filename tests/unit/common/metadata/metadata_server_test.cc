#include "common/metadata/metadata_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/support/command_runner.h"
#include "tests/unit/common/metadata/http_test_client.h"

namespace podrt::metadata {
namespace {

using podrt::testing::TempDir;
using namespace podrt::metadata::testing;

constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=us-ascii";
const std::string kUuid = "6733c3e5-6b2a-4ea4-b1f5-5e4d1f7e1a10";
const std::string kOtherUuid = "0f2b2c9a-8c61-4b43-9d4e-2a7b0c1e9d55";
const std::string kImageId = "sha512-" + std::string(128, 'a');

PodMetadata sample_pod(const std::string& uuid) {
  PodMetadata pod;
  pod.uuid = uuid;
  pod.pod_manifest_json = R"({"acKind":"PodManifest","acVersion":"0.8.11","apps":[]})";
  pod.annotations_json = R"([{"name":"ip-address","value":"10.1.2.3"}])";
  pod.apps["web"] = {kImageId, R"({"acKind":"ImageManifest","name":"example.com/web"})",
                     R"([{"name":"role","value":"frontend"}])"};
  pod.apps["db"] = {"sha512-" + std::string(128, 'b'), R"({"acKind":"ImageManifest","name":"db"})",
                    "[]"};
  return pod;
}

class MetadataServerTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = start_server(kUuid); }

  std::unique_ptr<MetadataServer> start_server(const std::string& uuid,
                                               const MetadataServerLimits& limits = {}) {
    auto key = IdentityKey::load_or_create(dir_.path() + "/hmac");
    EXPECT_TRUE(key) << key.error().message();
    if (!key) return nullptr;
    auto server = MetadataServer::start("127.0.0.1", 0, sample_pod(uuid), std::move(*key), limits);
    EXPECT_TRUE(server) << server.error().message();
    return server ? std::move(*server) : nullptr;
  }

  /// "/TOKEN/acMetadata/v1/" + endpoint on `server`.
  static std::string path(const MetadataServer& server, const std::string& endpoint) {
    std::string url = server.url();
    return url.substr(url.find('/', 7)) + "/acMetadata/v1/" + endpoint;
  }
  std::string path(const std::string& endpoint) const { return path(*server_, endpoint); }

  static std::string sign_form(const std::string& content) {
    return "content=" + form_escape(content);
  }
  static std::string verify_form(const std::string& uuid, const std::string& content,
                                 const std::string& signature) {
    return "uuid=" + form_escape(uuid) + "&content=" + form_escape(content) +
           "&signature=" + form_escape(signature);
  }

  TempDir dir_;
  std::unique_ptr<MetadataServer> server_;
};

TEST_F(MetadataServerTest, UrlIsHostPortAndA256BitToken) {
  ASSERT_TRUE(server_);
  std::string prefix = "http://127.0.0.1:" + std::to_string(server_->port()) + "/";
  ASSERT_EQ(server_->url().substr(0, prefix.size()), prefix);
  std::string token = server_->url().substr(prefix.size());
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
  EXPECT_NE(server_->port(), 0);
  auto another = start_server(kUuid);
  ASSERT_TRUE(another);
  EXPECT_NE(another->url().substr(another->url().rfind('/')), "/" + token);
}

TEST_F(MetadataServerTest, ServesEveryEndpointWithItsContentType) {
  ASSERT_TRUE(server_);
  PodMetadata pod = sample_pod(kUuid);
  struct Case {
    std::string endpoint, body, content_type;
  };
  for (const Case& c : std::vector<Case>{
           {"pod/annotations", pod.annotations_json, kJson},
           {"pod/manifest", pod.pod_manifest_json, kJson},
           {"pod/uuid", kUuid, kText},
           {"apps/web/annotations", pod.apps["web"].annotations_json, kJson},
           {"apps/web/image/manifest", pod.apps["web"].image_manifest_json, kJson},
           {"apps/web/image/id", kImageId, kText},
           {"apps/db/image/id", pod.apps["db"].image_id, kText},
       }) {
    HttpResponse response = http_get(server_->port(), path(c.endpoint));
    EXPECT_EQ(response.status, 200) << c.endpoint;
    EXPECT_EQ(response.body, c.body) << c.endpoint;
    EXPECT_EQ(response.headers["content-type"], c.content_type) << c.endpoint;
  }
  HttpResponse head = http_get(server_->port(), path("pod/uuid"), "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

TEST_F(MetadataServerTest, WrongOrMissingTokenIs401AndShowsNothingOfThePod) {
  ASSERT_TRUE(server_);
  std::string good = path("pod/manifest");
  std::string wrong_last = good;
  wrong_last[64] = wrong_last[64] == '0' ? '1' : '0';  // last token digit ("/" + 64 digits)
  std::string token_prefix = good.substr(0, 33) + good.substr(65);
  std::string endpoint = "/acMetadata/v1/pod/manifest";
  for (const std::string& p : {wrong_last, token_prefix, endpoint, std::string("/"),
                               "/" + std::string(64, 'z') + "/acMetadata/v1/pod/uuid"}) {
    HttpResponse response = http_get(server_->port(), p);
    EXPECT_EQ(response.status, 401) << p;
    EXPECT_EQ(response.body, "unauthorized\n") << p;
  }
  HttpResponse post =
      http_post(server_->port(),
                wrong_last.substr(0, wrong_last.find("/acM")) + "/acMetadata/v1/pod/hmac/sign",
                sign_form("x"));
  EXPECT_EQ(post.status, 401);
  EXPECT_EQ(post.body.find(kUuid), std::string::npos);
}

TEST_F(MetadataServerTest, UnknownAppOrPathIs404) {
  ASSERT_TRUE(server_);
  for (const char* endpoint :
       {"apps/nope/image/id", "apps/nope/annotations", "apps/web/secret", "apps/web",
        "apps//image/id", "pod", "pod/uuid/", "pod/hmac", "pod/manifest/../uuid"}) {
    HttpResponse response = http_get(server_->port(), path(endpoint));
    EXPECT_EQ(response.status, 404) << endpoint;
  }
  std::string token_only = path("");
  token_only = token_only.substr(0, token_only.find("/acMetadata"));
  EXPECT_EQ(http_get(server_->port(), token_only).status, 404);
  EXPECT_EQ(http_get(server_->port(), token_only + "/acMetadata/v2/pod/uuid").status, 404);
}

TEST_F(MetadataServerTest, WrongMethodIs405WithAllow) {
  ASSERT_TRUE(server_);
  HttpResponse post = http_post(server_->port(), path("pod/uuid"), "content=x");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
  HttpResponse get = http_get(server_->port(), path("pod/hmac/sign"));
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.headers["allow"], "POST");
  EXPECT_EQ(http_get(server_->port(), path("pod/hmac/verify"), "DELETE").status, 405);
}

TEST_F(MetadataServerTest, SignedContentVerifiesAndNothingElseDoes) {
  ASSERT_TRUE(server_);
  std::string content = "who am I? a+b=c&d\n\xff";
  HttpResponse signed_reply = http_post(server_->port(), path("pod/hmac/sign"), sign_form(content));
  ASSERT_EQ(signed_reply.status, 200);
  EXPECT_EQ(signed_reply.headers["content-type"], kText);
  std::string signature = signed_reply.body;
  EXPECT_EQ(signature.size(), IdentityKey::kSignatureSize);
  // The documented definition: the key file's HMAC over our uuid, NUL, content.
  auto key = IdentityKey::load_or_create(dir_.path() + "/hmac");
  ASSERT_TRUE(key);
  EXPECT_EQ(signature, key->sign(kUuid, content));

  auto verify = [&](const std::string& form) {
    return http_post(server_->port(), path("pod/hmac/verify"), form).status;
  };
  EXPECT_EQ(verify(verify_form(kUuid, content, signature)), 200);
  EXPECT_EQ(verify(verify_form(kUuid, content + " ", signature)), 403);
  EXPECT_EQ(verify(verify_form(kOtherUuid, content, signature)), 403);
  EXPECT_EQ(verify(verify_form(kUuid, content, "bm90IGEgc2lnbmF0dXJl")), 403);
  EXPECT_EQ(verify(verify_form(kUuid, content, "")), 403);
  // A client that forgot to escape '+' sends spaces; base64 never contains one.
  // The key is random: look for content whose signature has a '+' (3 in 4 do).
  std::string plus_content, plus_signature;
  for (int i = 0; plus_signature.find('+') == std::string::npos; ++i) {
    plus_content = "content " + std::to_string(i);
    plus_signature = key->sign(kUuid, plus_content);
  }
  EXPECT_EQ(verify("uuid=" + kUuid + "&content=" + form_escape(plus_content) +
                   "&signature=" + plus_signature),
            200);
}

TEST_F(MetadataServerTest, BadFormsAreRefused) {
  ASSERT_TRUE(server_);
  std::string sign = path("pod/hmac/sign");
  std::string verify = path("pod/hmac/verify");
  EXPECT_EQ(http_post(server_->port(), sign, "content=%zz").status, 400);
  EXPECT_EQ(http_post(server_->port(), sign, "other=1").status, 400);
  EXPECT_EQ(http_post(server_->port(), sign, "content=1&content=2").status, 400);
  EXPECT_EQ(http_post(server_->port(), sign, "content=1", "application/json").status, 415);
  EXPECT_EQ(http_post(server_->port(), verify, "uuid=" + kUuid + "&content=x").status, 400);
  EXPECT_EQ(http_post(server_->port(), sign, "content=ok",
                      "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
                .status,
            200);
}

TEST_F(MetadataServerTest, TwoPodsSharingTheHostKeyVerifyEachOther) {
  ASSERT_TRUE(server_);
  auto other = start_server(kOtherUuid);
  ASSERT_TRUE(other);
  HttpResponse signed_by_other =
      http_post(other->port(), path(*other, "pod/hmac/sign"), sign_form("I am the other pod"));
  ASSERT_EQ(signed_by_other.status, 200);
  std::string form = verify_form(kOtherUuid, "I am the other pod", signed_by_other.body);
  EXPECT_EQ(http_post(server_->port(), path("pod/hmac/verify"), form).status, 200);
  // The other pod cannot pass its signature off as ours.
  form = verify_form(kUuid, "I am the other pod", signed_by_other.body);
  EXPECT_EQ(http_post(server_->port(), path("pod/hmac/verify"), form).status, 403);
}

TEST_F(MetadataServerTest, BodyOverOneMebibyteIs413) {
  ASSERT_TRUE(server_);
  std::string content(2 << 20, 'x');
  // Announced with Content-Length: refused before the body is read.
  UniqueFd fd = connect_local(server_->port());
  ASSERT_TRUE(fd);
  ASSERT_TRUE(send_all(fd.get(), "POST " + path("pod/hmac/sign") +
                                     " HTTP/1.1\r\nHost: m\r\nConnection: close\r\n"
                                     "Content-Type: application/x-www-form-urlencoded\r\n"
                                     "Content-Length: " +
                                     std::to_string(content.size() + 8) + "\r\n\r\n"));
  EXPECT_EQ(read_response(fd.get()).status, 413);
  // Chunked: the server cannot know in advance, reads and drops the excess, then refuses.
  std::string request = "POST " + path("pod/hmac/sign") +
                        " HTTP/1.1\r\nHost: m\r\nConnection: close\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
  std::string body = "content=" + content;
  for (size_t at = 0; at < body.size(); at += 65536) {
    std::string chunk = body.substr(at, 65536);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    request += size + chunk + "\r\n";
  }
  request += "0\r\n\r\n";
  HttpResponse chunked = http_exchange(server_->port(), request);
  EXPECT_EQ(chunked.status, 413);
  // Just under the limit is fine.
  std::string fits = "content=" + std::string((1 << 20) - 8, 'y');
  EXPECT_EQ(http_post(server_->port(), path("pod/hmac/sign"), fits).status, 200);
}

TEST_F(MetadataServerTest, HugeHeadersAreRefusedAndTheServerCarriesOn) {
  ASSERT_TRUE(server_);
  std::string request = "GET " + path("pod/uuid") +
                        " HTTP/1.1\r\nHost: m\r\nConnection: close\r\n" +
                        "X-Junk: " + std::string(200 << 10, 'j') + "\r\n\r\n";
  HttpResponse response = http_exchange(server_->port(), request);
  EXPECT_GE(response.status, 400);
  EXPECT_EQ(response.body.find(kUuid), std::string::npos);
  EXPECT_EQ(http_get(server_->port(), path("pod/uuid")).body, kUuid);
  // Not HTTP at all: refused or dropped, either way no crash.
  EXPECT_NE(http_exchange(server_->port(), "\x01\x02garbage\r\n\r\n").status, 200);
  EXPECT_EQ(http_get(server_->port(), path("pod/uuid")).status, 200);
}

TEST_F(MetadataServerTest, FiftyConcurrentRequestsAreAllAnswered) {
  ASSERT_TRUE(server_);
  // All 50 connections are open and have sent their request before any answer is read.
  std::vector<UniqueFd> connections;
  for (int i = 0; i < 50; ++i) {
    connections.push_back(connect_local(server_->port()));
    ASSERT_TRUE(connections.back()) << i;
    ASSERT_TRUE(send_all(
        connections.back().get(),
        "GET " + path("apps/web/image/id") + " HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"));
  }
  for (int i = 0; i < 50; ++i) {
    HttpResponse response = read_response(connections[i].get());
    EXPECT_EQ(response.status, 200) << i;
    EXPECT_EQ(response.body, kImageId) << i;
  }
}

TEST_F(MetadataServerTest, SlowClientIsCutOffWithoutBlockingOthers) {
  MetadataServerLimits limits;
  limits.connection_timeout_s = 1;
  auto server = start_server(kUuid, limits);
  ASSERT_TRUE(server);
  UniqueFd slow = connect_local(server->port());
  ASSERT_TRUE(slow);
  ASSERT_TRUE(
      send_all(slow.get(), "GET " + path(*server, "pod/uuid") + " HTTP/1.1\r\nHost: m\r\n"));
  EXPECT_EQ(http_get(server->port(), path(*server, "pod/uuid")).status, 200);
  auto began = std::chrono::steady_clock::now();
  char byte;
  ssize_t n = ::recv(slow.get(), &byte, 1, 0);  // the 5 s receive timeout bounds this
  auto waited = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(n, 0) << "the server should have closed the idle connection";
  EXPECT_LT(waited, std::chrono::seconds(4));
}

TEST_F(MetadataServerTest, DestroyingTheServerClosesItsPort) {
  ASSERT_TRUE(server_);
  uint16_t port = server_->port();
  UniqueFd idle = connect_local(port);  // an open connection must not keep it alive
  ASSERT_TRUE(idle);
  EXPECT_EQ(http_get(port, path("pod/uuid")).status, 200);
  server_.reset();
  EXPECT_FALSE(connect_local(port));
  char byte;
  EXPECT_LE(::recv(idle.get(), &byte, 1, 0), 0);
}

size_t thread_count() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
    ++count;
  return count;
}

TEST_F(MetadataServerTest, DestroyingTheServerLeavesNoThread) {
  size_t before = thread_count();
  auto other = start_server(kOtherUuid);
  ASSERT_TRUE(other);
  EXPECT_GT(thread_count(), before);
  other.reset();
  EXPECT_EQ(thread_count(), before);
}

TEST_F(MetadataServerTest, StartReportsBadAddressesAndBusyPorts) {
  ASSERT_TRUE(server_);
  auto key = IdentityKey::load_or_create(dir_.path() + "/hmac");
  ASSERT_TRUE(key);
  auto bad = MetadataServer::start("not-an-ip", 0, sample_pod(kUuid), *key);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("not an IP address"), std::string::npos)
      << bad.error().message();
  auto busy = MetadataServer::start("127.0.0.1", server_->port(), sample_pod(kUuid), *key);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), EADDRINUSE) << busy.error().message();
  EXPECT_NE(busy.error().message().find(std::to_string(server_->port())), std::string::npos);
}

}  // namespace
}  // namespace podrt::metadata
