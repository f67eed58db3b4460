// The podrt-vmm program as stage1 runs it, with whole tiny "kernels" (tests/vmm/guests/*.S,
// entered through the real loader in long mode) under the real /dev/kvm: a guest that ends
// itself ends the VMM with 0, a hostile one stops it with one line and 1, bad flags are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "tests/support/command_runner.h"
#include "tests/vmm/kvm/kvm_test_support.h"

namespace podrt::vmm {
namespace {

using podrt::testing::CommandResult;
using podrt::testing::run_command;
using podrt::testing::TempDir;

std::string guest(const std::string& name) { return std::string(PODRT_VMM_GUEST_DIR) + "/" + name + ".elf"; }

CommandResult run_vmm(std::vector<std::string> args) {
  args.insert(args.begin(), PODRT_VMM_BINARY);
  return run_command(args);
}

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(KvmVmmBinary, AGuestThatResetsEndsTheVmWithZeroAndItsConsoleOutput) {
  PODRT_REQUIRE_KVM("podrt-vmm running a guest to its i8042 reset");
  CommandResult result = run_vmm({"--kernel", guest("hello"), "--memory", "32", "--report-times"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // The serial console defaults to stderr; --report-times adds the setup and boot-timer lines.
  EXPECT_NE(result.err.find("hello from the payload\n"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("podrt-vmm: setup took "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("podrt-vmm: guest-init reached after "), std::string::npos) << result.err;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(KvmVmmBinary, AKernelPageMappedFromItsFileIsTheGuestsOwnCopyOnceWritten) {
  PODRT_REQUIRE_KVM("podrt-vmm running a guest from kernel pages mapped copy-on-write");
  // The guest prints its message, increments its first byte and prints it again. Run twice:
  // the second run starts from '0' again only if the first one's write never reached the file.
  const std::string kernel = guest("mapped_page");
  const std::string before = file_text(kernel);
  ASSERT_FALSE(before.empty());
  const std::string expected =
      "0 from a page mapped from the kernel file\n1 from a page mapped from the kernel file\n";
  for (int run = 0; run < 2; ++run) {
    CommandResult result = run_vmm({"--kernel", kernel, "--memory", "32"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, expected) << "run " << run;
  }
  EXPECT_EQ(file_text(kernel), before);
}

TEST(KvmVmmBinary, ATripleFaultEndsTheVmLikeAReboot) {
  PODRT_REQUIRE_KVM("podrt-vmm ending a VM on a triple fault");
  CommandResult result = run_vmm({"--kernel", guest("triple_fault"), "--memory", "32"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
}

TEST(KvmVmmBinary, UnmappedMmioStopsTheVmWithOneLine) {
  PODRT_REQUIRE_KVM("podrt-vmm stopping a guest that writes unmapped MMIO");
  CommandResult result = run_vmm({"--kernel", guest("unmapped_mmio"), "--memory", "32", "--name", "hostile"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(lines(result.err), 1u) << result.err;
  EXPECT_NE(result.err.find("hostile: vCPU 0: the guest wrote unmapped guest-physical address 0xe0000000"),
            std::string::npos)
      << result.err;
}

TEST(KvmVmmBinary, BadFlagsAndBadFilesAreOneLineErrors) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
    bool needs_kvm = false;  ///< files are opened after /dev/kvm; flags are checked before
  };
  TempDir dir;
  std::string empty = dir.path() + "/empty";
  ASSERT_EQ(run_command({"touch", empty}).exit_code, 0);
  std::vector<Case> cases = {
      {{"--memory", "64"}, 2, "--kernel is required"},
      {{"--kernel", guest("hello"), "--memory", "1"}, 1, "--memory 1: must be 16.."},
      {{"--kernel", guest("hello"), "--vcpus", "0"}, 1, "--vcpus 0: must be 1.."},
      {{"--kernel", guest("hello"), "--control-fd", "77"}, 1, "--control-fd 77 is not an open fd"},
      {{"--kernel", guest("hello"), "--net", "x,52:54:00:12:34:56"}, 2, "the tap fd is not a number"},
      {{"--kernel", dir.path() + "/missing"}, 1, "No such file or directory", true},
      {{"--kernel", empty}, 1, "is empty", true},
      {{"--kernel", guest("hello"), "--disk", dir.path() + "/missing.img"}, 1, "missing.img", true},
  };
  for (const Case& c : cases) {
    if (c.needs_kvm && ::access("/dev/kvm", R_OK | W_OK) != 0) continue;
    CommandResult result = run_vmm(c.args);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.args[0] << ": " << result.err;
    EXPECT_EQ(lines(result.err), 1u) << result.err;
    EXPECT_NE(result.err.find(c.says), std::string::npos) << result.err;
    EXPECT_EQ(result.err.rfind("podrt-vmm: ", 0), 0u) << result.err;
    EXPECT_EQ(result.err.find("podrt-vmm: podrt-vmm"), std::string::npos) << result.err;
  }
  // --name tells one VM's messages from another's.
  CommandResult named = run_vmm({"--kernel", empty, "--name", "pod-1234"});
  if (::access("/dev/kvm", R_OK | W_OK) == 0) {
    EXPECT_EQ(named.err.rfind("podrt-vmm: pod-1234: ", 0), 0u) << named.err;
  }
}

}  // namespace
}  // namespace podrt::vmm
