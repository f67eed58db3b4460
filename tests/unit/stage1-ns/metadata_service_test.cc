// MetadataService: the pod's metadata service as a process of its own (podrt-metadata-service,
// built beside this test binary), serving what stage1 hands it and gone with the object.
#include "stage1-ns/metadata_service.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "common/sys/file.h"
#include "tests/support/command_runner.h"
#include "tests/unit/common/metadata/http_test_client.h"

namespace podrt::stage1 {
namespace {

using metadata::testing::http_get;

metadata::PodMetadata example_pod() {
  metadata::PodMetadata pod;
  pod.uuid = "6b8d8f64-7c55-4b0f-9a5e-0f3f3f3f3f3f";
  pod.pod_manifest_json = R"({"acKind":"PodManifest"})";
  pod.annotations_json = "[]";
  pod.apps["web"] = {"sha512-abc", R"({"acKind":"ImageManifest","name":"example.com/web"})", "[]"};
  return pod;
}

std::string service_binary() { return sys::own_directory() + "/podrt-metadata-service"; }

uint16_t port_of(const std::string& url) {
  // http://127.0.0.1:PORT/TOKEN
  size_t colon = url.rfind(':');
  return static_cast<uint16_t>(std::stoi(url.substr(colon + 1, url.find('/', colon) - colon - 1)));
}

std::string token_path(const std::string& url, const std::string& endpoint) {
  return url.substr(url.find('/', std::string("http://").size())) + "/acMetadata/v1/" + endpoint;
}

TEST(MetadataService, ServesThePodFromItsOwnProcessUntilTheObjectGoes) {
  testing::TempDir dir;
  pid_t pid = -1;
  uint16_t port = 0;
  {
    auto service = MetadataService::start(service_binary(), "127.0.0.1", example_pod(), dir.path() + "/key");
    ASSERT_TRUE(service) << service.error().message();
    EXPECT_EQ(service->url().rfind("http://127.0.0.1:", 0), 0u) << service->url();
    pid = service->pid();
    EXPECT_NE(pid, ::getpid());
    port = port_of(service->url());
    auto uuid = http_get(port, token_path(service->url(), "pod/uuid"));
    EXPECT_EQ(uuid.status, 200);
    EXPECT_EQ(uuid.body, example_pod().uuid);
    auto manifest = http_get(port, token_path(service->url(), "apps/web/image/manifest"));
    EXPECT_EQ(manifest.status, 200);
    EXPECT_NE(manifest.body.find("example.com/web"), std::string::npos) << manifest.body;
    EXPECT_TRUE(sys::read_file(dir.path() + "/key")) << "the identity key is made on first use";
  }
  // Stopped and reaped: no process, nothing listening.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(http_get(port, "/").status, -1) << "connection refused";
}

// Dead or a zombie waiting for a reaper that is not its stage1.
bool exited(pid_t pid) {
  auto stat = sys::read_file("/proc/" + std::to_string(pid) + "/stat");
  return !stat || stat->find(") Z ") != std::string::npos;
}

TEST(MetadataService, DiesWithAStage1ThatWasKilled) {
  testing::TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t stage1 = ::fork();
  ASSERT_GE(stage1, 0);
  if (stage1 == 0) {
    auto service = MetadataService::start(service_binary(), "127.0.0.1", example_pod(), dir.path() + "/key");
    pid_t pid = service ? service->pid() : -1;
    (void)::write(fds[1], &pid, sizeof pid);
    ::raise(SIGKILL);  // no destructor runs
  }
  ::close(fds[1]);
  pid_t pid = -1;
  ASSERT_EQ(::read(fds[0], &pid, sizeof pid), static_cast<ssize_t>(sizeof pid));
  ::close(fds[0]);
  ::waitpid(stage1, nullptr, 0);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 500 && !exited(pid); ++i) ::usleep(10000);
  EXPECT_TRUE(exited(pid)) << "the metadata service outlived its stage1";
  if (!exited(pid)) ::kill(pid, SIGKILL);
}

TEST(MetadataService, ABinaryThatDoesNotStartIsOneError) {
  testing::TempDir dir;
  auto missing = MetadataService::start(dir.path() + "/nope", "127.0.0.1", example_pod(), dir.path() + "/key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("the metadata service (" + dir.path() + "/nope) did not start"),
            std::string::npos)
      << missing.error().message();
  // The service itself refuses an address it cannot listen on, and exits.
  auto bad = MetadataService::start(service_binary(), "not-an-ip", example_pod(), dir.path() + "/key");
  ASSERT_FALSE(bad);
}

TEST(PodMetadataJson, RoundTripsAndRefusesOtherShapes) {
  metadata::PodMetadata pod = example_pod();
  auto back = metadata::pod_metadata_from_json(metadata::to_json(pod).dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->uuid, pod.uuid);
  EXPECT_EQ(back->pod_manifest_json, pod.pod_manifest_json);
  ASSERT_EQ(back->apps.count("web"), 1u);
  EXPECT_EQ(back->apps["web"].image_id, "sha512-abc");
  EXPECT_EQ(back->apps["web"].image_manifest_json, pod.apps["web"].image_manifest_json);

  for (const char* bad : {"", "[]", R"({"uuid":1})",
                          R"({"uuid":"u","pod_manifest_json":"{}","annotations_json":"[]"})",
                          R"({"uuid":"u","pod_manifest_json":"{}","annotations_json":"[]","apps":{"a":{}}})"}) {
    EXPECT_FALSE(metadata::pod_metadata_from_json(bad)) << bad;
  }
}

}  // namespace
}  // namespace podrt::stage1
