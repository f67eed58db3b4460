// kill -9 in the middle of a fetch: the store lists what it listed before (or, if the fetch
// had already finished, the new image whole), leftovers are swept, and the store still works.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/e2e/podrt_fixture.h"
#include "tests/support/aci_writer.h"

namespace podrt::testing {
namespace {

namespace fs = std::filesystem;

class CrashSafety : public PodrtTest {
 protected:
  /// An uncompressed ACI of ~96 MiB in 48 files: big enough to kill a fetch halfway.
  std::string big_aci() {
    std::string path = scratch() + "/big.aci";
    std::vector<AciEntry> entries = aci_skeleton(minimal_manifest("example.com/big"));
    for (int i = 0; i < 48; ++i)
      entries.push_back({.path = "rootfs/file" + std::to_string(i),
                         .content = "file " + std::to_string(i), .zero_bytes = 2ULL << 20});
    EXPECT_TRUE(write_aci(path, entries));
    return path;
  }

  /// Waits until the fetch has started work in cas/tmp (or 5 s passed).
  void wait_for_work_in_progress() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (temporary_entries() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
};

TEST_F(CrashSafety, KillDashNineDuringFetchLeavesNoPartialImage) {
  std::string base_id = fetch(image_path("busybox.aci"));
  std::string aci = big_aci();
  std::string before = podrt_ok({"image", "list", "--no-legend", "--full"});
  int killed_midway = 0;
  for (int delay_ms : {0, 5, 20, 60, 150}) {
    SCOPED_TRACE("kill after " + std::to_string(delay_ms) + " ms");
    int pid = spawn_quietly({PODRT_BINARY, "--dir", data_dir(), "--insecure-options=image",
                             "fetch", aci});
    wait_for_work_in_progress();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = wait_for(pid);
    std::string after = podrt_ok({"image", "list", "--no-legend", "--full"});
    if (status == 128 + SIGKILL) {
      ++killed_midway;
      EXPECT_EQ(after, before);  // not half an image: none
    } else {
      ASSERT_EQ(status, 0);  // it finished first: then the whole image is there
      podrt_ok({"image", "rm", "example.com/big"});
    }
    // gc sweeps what the killed fetch left; the rest of the store is intact.
    podrt_ok({"image", "gc"});
    EXPECT_EQ(temporary_entries(), 0u);
    EXPECT_EQ(podrt_ok({"image", "list", "--no-legend", "--full"}), before);
    EXPECT_TRUE(fs::exists(data_dir() + "/cas/tree/" + base_id + "/rootfs/bin/busybox"));
  }
  EXPECT_GT(killed_midway, 0) << "every fetch finished before the kill: the test proved nothing";
  // After all that, the same image imports cleanly.
  std::string id = fetch(aci);
  EXPECT_TRUE(fs::exists(data_dir() + "/cas/tree/" + id + "/rootfs/file47"));
  EXPECT_EQ(temporary_entries(), 0u);
}

}  // namespace
}  // namespace podrt::testing
