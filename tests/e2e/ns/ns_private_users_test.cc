// --private-users under stage1-ns: the pod's root is an unprivileged host id BASE (its range
// recorded in the pod dir), the shared image render appears owned by the pod's root through an
// idmapped mount and stays untouched, and what the pod writes lands in its upper dir as BASE.
#include <signal.h>
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <sstream>
#include <thread>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

class NsPrivateUsersTest : public NsPodTest {
 protected:
  std::string pod_dir(const std::string& uuid) const { return data_dir() + "/pods/run/" + uuid; }

  /// The pod's "BASE:COUNT" record, as a base (0 when missing or not 65536 ids).
  uint32_t base_of(const std::string& uuid) const {
    std::string record = read_text(pod_dir(uuid) + "/private-users");
    size_t colon = record.find(':');
    if (colon == std::string::npos || record.substr(colon + 1) != "65536\n") {
      ADD_FAILURE() << "private-users of " << uuid << ": \"" << record << "\"";
      return 0;
    }
    return static_cast<uint32_t>(std::stoul(record.substr(0, colon)));
  }

  /// The one pod this test ran that is not in `known`, and adds it there.
  std::string new_pod(std::set<std::string>& known) {
    for (const std::string& uuid : pod_uuids())
      if (known.insert(uuid).second) return uuid;
    ADD_FAILURE() << "no new pod";
    return "";
  }

  /// Whitespace-separated fields of a /proc/self/uid_map line.
  static std::vector<std::string> fields(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string field; in >> field;) out.push_back(field);
    return out;
  }
};

TEST_F(NsPrivateUsersTest, PodRootIsAnUnprivilegedHostRange) {
  CommandResult result = shell({"--private-users"},
                               "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; "
                               "stat -c %u:%g /bin/busybox; /bin/busybox true && echo runs; "
                               "echo made > /made && echo tmp > /tmp/t && cat /tmp/t; "
                               "httpd -p 80 && echo bound");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::set<std::string> known;
  std::string uuid = new_pod(known);
  uint32_t base = base_of(uuid);
  ASSERT_GE(base, 65536u) << "the pod's root must not be a host system id";

  std::vector<std::string> out = lines(result.out);
  ASSERT_EQ(out.size(), 8u) << result.out << result.err;
  EXPECT_EQ(out[0], "0");
  EXPECT_EQ(out[1], "0");
  std::vector<std::string> expected_map = {"0", std::to_string(base), "65536"};
  EXPECT_EQ(fields(out[2]), expected_map) << "uid_map";
  EXPECT_EQ(fields(out[3]), expected_map) << "gid_map";
  EXPECT_EQ(out[4], "0:0") << "the image's files appear owned by the pod's root";
  EXPECT_EQ(out[5], "runs");
  EXPECT_EQ(out[6], "tmp");
  EXPECT_EQ(out[7], "bound") << "ports below 1024 in the pod's own network namespace";

  std::string upper = pod_dir(uuid) + "/overlay/busybox/upper";
  struct stat made{};
  ASSERT_EQ(::stat((upper + "/made").c_str(), &made), 0) << upper << "/made";
  EXPECT_EQ(made.st_uid, base);
  EXPECT_EQ(made.st_gid, base);
  struct stat tmp{};
  ASSERT_EQ(::stat((upper + "/tmp/t").c_str(), &tmp), 0);
  EXPECT_EQ(tmp.st_uid, base);

  // The shared render is untouched: still owned by host root.
  size_t renders = 0;
  for (const auto& tree : std::filesystem::directory_iterator(data_dir() + "/cas/tree")) {
    struct stat busybox{};
    if (::stat((tree.path().string() + "/rootfs/bin/busybox").c_str(), &busybox) != 0) continue;
    ++renders;
    EXPECT_EQ(busybox.st_uid, 0u);
    EXPECT_EQ(busybox.st_gid, 0u);
  }
  EXPECT_EQ(renders, 1u);
}

TEST_F(NsPrivateUsersTest, PodsGetDifferentRanges) {
  std::set<std::string> known;
  std::set<uint32_t> bases;
  std::set<std::string> maps;
  for (int i = 0; i < 3; ++i) {
    CommandResult result = shell({"--private-users"}, "cat /proc/self/uid_map");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    uint32_t base = base_of(new_pod(known));
    bases.insert(base);
    EXPECT_EQ(fields(result.out)[1], std::to_string(base));
  }
  EXPECT_EQ(bases.size(), 3u);
}

TEST_F(NsPrivateUsersTest, AppUserIsMappedToo) {
  // The image's user 1000 is host id BASE + 1000, and cannot write what the pod's root owns.
  CommandResult result = shell({"--private-users", "--user=1000", "--group=1000"},
                               "id -u; touch /bin/x 2>/dev/null || echo denied; echo ok > /tmp/u");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "1000\ndenied\n");
  std::set<std::string> known;
  std::string uuid = new_pod(known);
  struct stat written{};
  ASSERT_EQ(::stat((pod_dir(uuid) + "/overlay/busybox/upper/tmp/u").c_str(), &written), 0);
  EXPECT_EQ(written.st_uid, base_of(uuid) + 1000);
}

TEST_F(NsPrivateUsersTest, EnterRunsAsThePodsRoot) {
  std::set<std::string> known;
  int pid = spawn_quietly({PODRT_BINARY, "--dir", data_dir(), "run", "--net=none", "--private-users",
                           "example.com/busybox", "--exec=/bin/sleep", "--", "60"});
  std::string uuid;
  for (int i = 0; i < 500 && uuid.empty(); ++i) {
    for (const std::string& candidate : pod_uuids()) {
      std::string status = podrt({"status", candidate}).out;
      // "pid=" is empty until stage1 wrote the pid file.
      size_t pid_at = status.find("pid=");
      if (status.find("state=running") != std::string::npos && pid_at != std::string::npos &&
          std::isdigit(static_cast<unsigned char>(status[pid_at + 4])))
        uuid = candidate;
    }
    if (uuid.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(uuid.empty()) << "pod did not start";
  CommandResult entered = podrt({"enter", uuid, "--", "/bin/sh", "-c", "id -u; awk '{print $2}' /proc/self/uid_map"});
  EXPECT_EQ(entered.exit_code, 0) << entered.err;
  EXPECT_EQ(entered.out, "0\n" + std::to_string(base_of(uuid)) + "\n");
  EXPECT_EQ(podrt({"stop", uuid}).exit_code, 0);
  EXPECT_EQ(wait_for(pid), 143);
}

TEST_F(NsPrivateUsersTest, NonRootStillNeedsRoot) {
  CommandResult result = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      PODRT_BINARY, "--dir", scratch() + "/nobody", "run",
                                      "--net=none", "--private-users", "example.com/busybox"});
  EXPECT_EQ(result.exit_code, 254);
  EXPECT_NE(result.err.find("--private-users needs root"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace podrt::testing
