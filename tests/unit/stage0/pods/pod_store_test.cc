#include "stage0/pods/pod_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/sys/file.h"
#include "tests/support/command_runner.h"

namespace podrt::pods {
namespace {

namespace fs = std::filesystem;

class PodStoreTest : public ::testing::Test {
 protected:
  PodStore open() {
    auto store = PodStore::open(dir_.path());
    EXPECT_TRUE(store) << store.error().message();
    return std::move(*store);
  }
  testing::TempDir dir_;
};

TEST_F(PodStoreTest, PrepareCommitMovesThePodToPrepared) {
  PodStore store = open();
  auto pod = store.begin_prepare();
  ASSERT_TRUE(pod);
  std::string uuid = pod->uuid();
  EXPECT_EQ(store.find(uuid)->state, PodState::Preparing);  // locked in prepare/
  ASSERT_TRUE(pod->commit());
  EXPECT_EQ(store.find(uuid)->state, PodState::Prepared);
  EXPECT_TRUE(fs::exists(dir_.path() + "/pods/prepared/" + uuid));
}

TEST_F(PodStoreTest, AnUncommittedPrepareLeavesNothing) {
  PodStore store = open();
  {
    auto pod = store.begin_prepare();
    ASSERT_TRUE(pod);
  }
  EXPECT_TRUE(store.list()->empty());
}

TEST_F(PodStoreTest, ARunDirectoryIsRunningWhileLockedAndExitedAfter) {
  PodStore store = open();
  auto pod = store.begin_prepare();
  ASSERT_TRUE(pod);
  std::string uuid = pod->uuid();
  ASSERT_TRUE(pod->commit());
  std::string run = dir_.path() + "/pods/run/" + uuid;
  fs::rename(dir_.path() + "/pods/prepared/" + uuid, run);
  {
    // What stage1 will do: hold the pod's lock while it runs.
    auto lock = sys::FileLock::open(run);
    ASSERT_TRUE(lock);
    ASSERT_TRUE(lock->lock(sys::FileLock::Mode::Exclusive, sys::FileLock::Wait::NonBlocking));
    EXPECT_EQ(store.find(uuid)->state, PodState::Running);
    auto removed = store.remove(uuid);
    ASSERT_FALSE(removed);
    EXPECT_NE(removed.error().message().find("running"), std::string::npos);
    auto report = store.gc(0, 0, false);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->marked.empty());  // a running pod is never garbage
  }
  EXPECT_EQ(store.find(uuid)->state, PodState::Exited);
  auto report = store.gc(0, 86400, false);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->marked, std::vector<std::string>{uuid});
  EXPECT_EQ(report->removed, std::vector<std::string>{uuid});
  EXPECT_TRUE(store.list()->empty());
}

TEST_F(PodStoreTest, ConcurrentPreparesAndListingsNeverSeeHalfAPod) {
  PodStore store = open();
  constexpr int kPods = 40;
  std::atomic<bool> done = false;
  std::atomic<int> bad_listings = 0;
  std::thread lister([&] {
    while (!done) {
      auto pods = store.list();
      if (!pods) {
        ++bad_listings;
        continue;
      }
      for (const PodInfo& pod : *pods)
        // Every pod seen is whole: a prepared pod always has its creation marker.
        if (pod.state == PodState::Prepared && pod.created == 0) ++bad_listings;
    }
  });
  for (int i = 0; i < kPods; ++i) {
    auto pod = store.begin_prepare();
    ASSERT_TRUE(pod);
    ASSERT_TRUE(pod->commit());
  }
  done = true;
  lister.join();
  EXPECT_EQ(bad_listings, 0);
  EXPECT_EQ(store.list()->size(), static_cast<size_t>(kPods));
}

TEST_F(PodStoreTest, FindAcceptsUniquePrefixesOnly) {
  PodStore store = open();
  auto pod = store.begin_prepare();
  ASSERT_TRUE(pod);
  std::string uuid = pod->uuid();
  ASSERT_TRUE(pod->commit());
  EXPECT_EQ(store.find(uuid.substr(0, 4))->uuid, uuid);
  EXPECT_FALSE(store.find("zzzz"));
  EXPECT_FALSE(store.find(""));
}

}  // namespace
}  // namespace podrt::pods
