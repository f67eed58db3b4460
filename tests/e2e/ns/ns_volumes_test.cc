// Volumes and mounts under stage1-ns: empty volumes and the /etc
// files stage1 writes (host volumes: tests/e2e/pods/, under both stage1s).
#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

using NsVolumeTest = NsPodTest;

TEST_F(NsVolumeTest, EmptyVolumesStartEmptyAndEtcHostsIsGenerated) {
  CommandResult empty = shell({"--volume=scratch,kind=empty,mode=0700", "--mount=volume=scratch,target=/scratch"},
                              "ls -A /scratch | wc -l; stat -c %a /scratch");
  EXPECT_EQ(empty.out, "0\n700\n") << empty.err;
  // /etc/hosts is ours, not the image's, and is read-only to the app.
  CommandResult hosts = shell({"--hostname=named", "--hosts-entry=10.1.2.3=db"}, "cat /etc/hosts; echo x >> /etc/hosts");
  EXPECT_NE(hosts.out.find("named"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.out.find("10.1.2.3\tdb"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.exit_code, 0);
}

}  // namespace
}  // namespace podrt::testing
