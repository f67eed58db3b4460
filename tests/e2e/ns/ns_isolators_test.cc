// Isolators under stage1-ns, each seen from inside the pod: pids,
// capabilities, seccomp, no_new_privs, read-only rootfs, rlimits.
#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

using NsIsolatorTest = NsPodTest;

std::string status_field(const std::string& out, const std::string& key) {
  size_t at = out.find(key + "=");
  if (at == std::string::npos) return "";
  size_t end = out.find('\n', at);
  return out.substr(at + key.size() + 1, end - at - key.size() - 1);
}

TEST_F(NsIsolatorTest, PidsLimitStopsForks) {
  CommandResult result = shell({"--pids-limit=5"}, "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait");
  EXPECT_NE(result.err.find("fork"), std::string::npos) << result.err;
}

TEST_F(NsIsolatorTest, DefaultCapabilitiesAreAppcsAndRetainRemoveChangeThem) {
  // appc's 14: AUDIT_WRITE CHOWN DAC_OVERRIDE FSETID FOWNER KILL MKNOD NET_RAW
  // NET_BIND_SERVICE SETUID SETGID SETPCAP SETFCAP SYS_CHROOT.
  CommandResult defaults = probe({}, {"caps"});
  EXPECT_EQ(status_field(defaults.out, "CapBnd"), "00000000a80425fb") << defaults.out;
  EXPECT_EQ(status_field(defaults.out, "CapEff"), "00000000a80425fb") << defaults.out;
  CommandResult retained = probe({"--caps-retain=CAP_NET_ADMIN,CAP_CHOWN"}, {"caps"});
  EXPECT_EQ(status_field(retained.out, "CapBnd"), "0000000000001001") << retained.out;
  CommandResult removed = probe({"--caps-remove=CAP_CHOWN"}, {"caps"});
  EXPECT_EQ(status_field(removed.out, "CapBnd"), "00000000a80425fa") << removed.out;
  CommandResult non_root = probe({"--user=1000"}, {"caps"});
  EXPECT_EQ(status_field(non_root.out, "CapEff"), "0000000000000000") << non_root.out;
}

TEST_F(NsIsolatorTest, SeccompBlocksWhatTheProfileLeavesOut) {
  // The default profile (Docker's allow-list) has no mount, unshare or keyctl for apps.
  EXPECT_EQ(status_field(probe({}, {"seccomp"}).out, "Seccomp"), "2");
  CommandResult removed = probe({"--seccomp=mode=remove,errno=ENOSYS,getcwd"}, {"cwd"});
  EXPECT_NE(removed.exit_code, 0);
  EXPECT_NE(removed.err.find("Function not implemented"), std::string::npos) << removed.err;
  CommandResult retained = probe({"--caps-retain=CAP_SYS_ADMIN"}, {"syscall", "mount"});
  EXPECT_NE(retained.exit_code, 0) << "mount is not in the default profile: " << retained.out;
  CommandResult insecure = podrt({"--insecure-options=seccomp", "run", "--net=none",
                                  "example.com/probe", "--exec=/bin/podrt-probe", "--", "seccomp"});
  EXPECT_EQ(status_field(insecure.out, "Seccomp"), "0") << insecure.err;
}

TEST_F(NsIsolatorTest, NoNewPrivilegesReadOnlyRootfsAndRlimits) {
  EXPECT_EQ(status_field(probe({"--no-new-privileges"}, {"nnp"}).out, "NoNewPrivs"), "1");
  CommandResult read_only = shell({"--readonly-rootfs"}, "touch /file");
  EXPECT_NE(read_only.exit_code, 0);
  EXPECT_NE(read_only.err.find("Read-only file system"), std::string::npos) << read_only.err;
  EXPECT_EQ(shell({}, "touch /file && echo ok").out, "ok\n") << "the rootfs is writable by default";
  EXPECT_EQ(shell({"--rlimit=NOFILE=123:456"}, "ulimit -n").out, "123\n");
}

}  // namespace
}  // namespace podrt::testing
