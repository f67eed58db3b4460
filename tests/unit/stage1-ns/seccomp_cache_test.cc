#include "stage1-ns/seccomp_cache.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/supervisor/seccomp_filter.h"

namespace podrt::stage1 {
namespace {

TEST(SeccompCache, CompilesOncePerPolicyAndReadsItBack) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("seccomp-cache-" + std::to_string(::getpid()));
  auto first = compiled_seccomp(supervisor::default_seccomp_policy(), dir.string());
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_FALSE(first->empty());
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
  auto again = compiled_seccomp(supervisor::default_seccomp_policy(), dir.string());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);

  supervisor::SeccompPolicy other;
  other.mode = supervisor::SeccompPolicy::Mode::Remove;
  other.syscalls = {"getcwd"};
  other.errno_name = "ENOSYS";
  auto different = compiled_seccomp(other, dir.string());
  ASSERT_TRUE(different);
  EXPECT_NE(*different, *first) << "another policy, another program";

  // A corrupt cache entry is not loaded: it is compiled again.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    std::filesystem::resize_file(entry.path(), 5);
  auto recompiled = compiled_seccomp(supervisor::default_seccomp_policy(), dir.string());
  ASSERT_TRUE(recompiled);
  EXPECT_EQ(*recompiled, *first);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace podrt::stage1
