// Volumes and mounts under stage1-ns: host volumes (read-write and read-only), empty volumes
// shared by the apps of a pod, and the /etc files stage1 writes.
#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

using NsVolumeTest = NsPodTest;

TEST_F(NsVolumeTest, HostVolumesAreBoundReadWriteOrReadOnly) {
  std::string host_dir = scratch() + "/shared";
  std::filesystem::create_directories(host_dir);
  write_text(host_dir + "/from-host", "hello from the host\n");
  CommandResult rw = shell({"--volume=data,kind=host,source=" + host_dir, "--mount=volume=data,target=/data"},
                           "cat /data/from-host && echo written > /data/from-pod");
  EXPECT_EQ(rw.exit_code, 0) << rw.err;
  EXPECT_EQ(rw.out, "hello from the host\n");
  EXPECT_EQ(read_text(host_dir + "/from-pod"), "written\n");

  CommandResult ro = shell({"--volume=data,kind=host,source=" + host_dir + ",readOnly=true",
                            "--mount=volume=data,target=/data"},
                           "echo x > /data/other");
  EXPECT_NE(ro.exit_code, 0);
  EXPECT_NE(ro.err.find("Read-only"), std::string::npos) << ro.err;
  EXPECT_FALSE(std::filesystem::exists(host_dir + "/other"));
}

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
