// A hostile image cannot make stage1 mount or write outside the app's rootfs: /etc/hosts,
// /dev and a volume's mount target are symlinks aiming at the host, and they must be
// resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), never on the host.
#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/e2e/ns/ns_fixture.h"
#include "tests/support/aci_writer.h"

namespace podrt::testing {
namespace {

using Kind = AciEntry::Kind;
using NsHostileImageTest = NsPodTest;

TEST_F(NsHostileImageTest, SymlinksInTheImageCannotLeadStage1OntoTheHost) {
  std::string marker = scratch() + "/host-side";
  std::filesystem::create_directories(marker);
  std::string up = "/../../../../../../../../../..";
  std::string aci = scratch() + "/hostile.aci";
  ASSERT_TRUE(write_aci(aci, aci_with({
      {.path = "rootfs/bin", .kind = Kind::Directory, .mode = 0755},
      {.path = "rootfs/bin/busybox", .content = read_text("/bin/busybox"), .mode = 0755},
      {.path = "rootfs/bin/sh", .kind = Kind::Symlink, .link_target = "busybox"},
      {.path = "rootfs/etc", .kind = Kind::Directory, .mode = 0755},
      {.path = "rootfs/etc/hosts", .kind = Kind::Symlink, .link_target = up + marker + "/hosts"},
      {.path = "rootfs/dev", .kind = Kind::Symlink, .link_target = up + marker + "/dev"},
      {.path = "rootfs/data", .kind = Kind::Symlink, .link_target = up + marker + "/data"},
  }, minimal_manifest("example.com/hostile", "/bin/sh"))));
  fetch(aci);
  CommandResult result = run_pod({"--volume=data,kind=empty", "--mount=volume=data,target=/data",
                                  "example.com/hostile", "--exec=/bin/busybox", "--",
                                  "sh", "-c", "echo x > /data/file && cat /etc/hosts && ls /dev/null"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("localhost"), std::string::npos) << result.out;
  // Nothing appeared where the symlinks pointed on the host.
  EXPECT_TRUE(std::filesystem::is_empty(marker));
}

TEST_F(NsHostileImageTest, APortTakenOnTheHostIsAOneLineError) {
  int listener = spawn_quietly({"busybox", "nc", "-l", "-p", "18081"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CommandResult result = shell({"--net=default", "--port=http:18081"}, "true");
  ::kill(listener, SIGKILL);
  wait_for(listener);
  EXPECT_EQ(result.exit_code, 254);
  EXPECT_NE(result.err.find("already in use"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

}  // namespace
}  // namespace podrt::testing
