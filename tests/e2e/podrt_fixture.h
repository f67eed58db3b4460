// PodrtTest: each end-to-end test gets its own data directory and runs the real podrt binary.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/command_runner.h"

namespace podrt::testing {

class PodrtTest : public ::testing::Test {
 protected:
  /// `podrt --dir <this test's dir> args...`
  CommandResult podrt(std::vector<std::string> args) {
    args.insert(args.begin(), {PODRT_BINARY, "--dir", data_dir()});
    return run_command(args);
  }
  /// The same, expecting success; returns stdout.
  std::string podrt_ok(std::vector<std::string> args) {
    CommandResult result = podrt(args);
    EXPECT_EQ(result.exit_code, 0) << "stderr: " << result.err;
    return result.out;
  }
  std::string data_dir() const { return data_.path() + "/data"; }
  /// A scratch directory beside the data dir.
  std::string scratch() const { return data_.path(); }

  static std::string image_path(const std::string& name) {
    return std::string(PODRT_IMAGES_DIR) + "/" + name;
  }

  /// `podrt fetch` with signature checks off; returns the image id.
  std::string fetch(const std::string& aci) {
    std::string out = podrt_ok({"--insecure-options=image", "fetch", aci});
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  /// Entries under cas/tmp: interrupted or failed work must leave none.
  size_t temporary_entries() const {
    std::error_code ec;
    size_t count = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator(data_dir() + "/cas/tmp", ec))
      ++count;
    return count;
  }

 private:
  TempDir data_;
};

/// Lines of text, without the trailing empty one.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    result.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

}  // namespace podrt::testing
