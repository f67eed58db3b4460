// What guest-init mounts for a pod, from its GuestConfig alone.
#include <sys/mount.h>

#include <gtest/gtest.h>

#include "guest-init/pod_mounts.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::GuestApp;
using guest_protocol::GuestConfig;
using guest_protocol::GuestMount;
using guest_protocol::GuestVolume;

GuestConfig two_app_pod() {
  GuestConfig config;
  GuestApp web;
  web.name = "web";
  web.disk = "/dev/vda";
  web.read_only_root = true;
  GuestApp db;
  db.name = "db";
  db.disk = "/dev/vdb";
  db.fs_type = "ext4";
  db.mounts = {GuestMount{"data", "/var/lib/db", false}, GuestMount{"scratch", "/tmp/s", true}};
  config.apps = {web, db};
  for (const GuestApp& app : config.apps) {
    supervisor::AppSpec spec;
    spec.name = app.name;
    config.plan.apps.push_back(spec);
  }
  GuestVolume data;
  data.name = "data";
  data.kind = GuestVolume::Kind::kHost;
  data.tag = "podrt-data";
  data.read_only = true;
  GuestVolume scratch;
  scratch.name = "scratch";
  scratch.mode = 01777;
  scratch.uid = 1000;
  scratch.gid = 1001;
  config.volumes = {data, scratch};
  config.etc_hosts = "127.0.0.1 localhost\n";
  return config;
}

TEST(GuestInitPodMounts, MountsEachDiskReadOnlyAndAnUpperTmpfsPerApp) {
  PodMounts mounts = plan_pod_mounts(two_app_pod(), "");
  ASSERT_EQ(mounts.filesystems.size(), 6u);
  const FilesystemMount& web_disk = mounts.filesystems[0];
  EXPECT_EQ(web_disk.source, "/dev/vda");
  EXPECT_EQ(web_disk.target, "/podrt/lower/web");
  EXPECT_EQ(web_disk.type, "erofs");
  EXPECT_EQ(web_disk.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(mounts.filesystems[1].source, "/dev/vdb");
  EXPECT_EQ(mounts.filesystems[1].target, "/podrt/lower/db");
  EXPECT_EQ(mounts.filesystems[1].type, "ext4");
  const FilesystemMount& web_upper = mounts.filesystems[2];
  EXPECT_EQ(web_upper.type, "tmpfs");
  EXPECT_EQ(web_upper.target, "/podrt/upper/web");
  EXPECT_EQ(web_upper.flags, 0u);
  EXPECT_EQ(web_upper.subdirectories, (std::vector<std::string>{"upper", "work"}));
  EXPECT_EQ(mounts.filesystems[3].target, "/podrt/upper/db");
}

TEST(GuestInitPodMounts, MountsEachVolumeOnceForEveryAppThatUsesIt) {
  PodMounts mounts = plan_pod_mounts(two_app_pod(), "");
  const FilesystemMount& data = mounts.filesystems[4];
  EXPECT_EQ(data.source, "podrt-data");
  EXPECT_EQ(data.target, "/podrt/volumes/data");
  EXPECT_EQ(data.type, "9p");
  EXPECT_EQ(data.options, "trans=virtio,version=9p2000.L,msize=524288");
  EXPECT_EQ(data.flags, static_cast<unsigned long>(MS_RDONLY));
  const FilesystemMount& scratch = mounts.filesystems[5];
  EXPECT_EQ(scratch.type, "tmpfs");
  EXPECT_EQ(scratch.target, "/podrt/volumes/scratch");
  EXPECT_EQ(scratch.options, "mode=1777,uid=1000,gid=1001");
  EXPECT_EQ(scratch.flags, 0u);
}

TEST(GuestInitPodMounts, BuildsEachAppsRootfsLikeStage1Ns) {
  GuestConfig config = two_app_pod();
  config.harden_paths = false;
  PodMounts mounts = plan_pod_mounts(config, "/dev/pts/0");
  ASSERT_EQ(mounts.apps.size(), 2u);
  const stage1::rootfs::AppRootfs& web = mounts.apps[0];
  EXPECT_EQ(web.path, "/opt/stage2/web/rootfs");
  EXPECT_EQ(web.lower, "/podrt/lower/web");
  EXPECT_EQ(web.upper, "/podrt/upper/web/upper");
  EXPECT_EQ(web.work, "/podrt/upper/web/work");
  EXPECT_TRUE(web.read_only);
  EXPECT_FALSE(web.harden_paths);
  EXPECT_EQ(web.terminal, "/dev/pts/0");
  EXPECT_EQ(web.userns_fd, -1);

  const stage1::rootfs::AppRootfs& db = mounts.apps[1];
  EXPECT_FALSE(db.read_only);
  ASSERT_EQ(db.binds.size(), 3u);
  // A read-only volume stays read-only in every app; a read-only mount of a writable one too.
  EXPECT_EQ(db.binds[0].source, "/podrt/volumes/data");
  EXPECT_EQ(db.binds[0].target, "/var/lib/db");
  EXPECT_TRUE(db.binds[0].read_only);
  EXPECT_EQ(db.binds[1].source, "/podrt/volumes/scratch");
  EXPECT_EQ(db.binds[1].target, "/tmp/s");
  EXPECT_TRUE(db.binds[1].read_only);
  EXPECT_EQ(db.binds[2].source, "/podrt/etc/hosts");
  EXPECT_EQ(db.binds[2].target, "/etc/hosts");
  EXPECT_TRUE(db.binds[2].read_only);
}

TEST(GuestInitPodMounts, WritesOnlyTheEtcFilesTheHostGave) {
  GuestConfig config = two_app_pod();
  PodMounts hosts_only = plan_pod_mounts(config, "");
  ASSERT_EQ(hosts_only.files.size(), 1u);
  EXPECT_EQ(hosts_only.files[0].path, "/podrt/etc/hosts");
  EXPECT_EQ(hosts_only.files[0].content, "127.0.0.1 localhost\n");
  ASSERT_EQ(hosts_only.apps[0].binds.size(), 1u);

  config.etc_hosts.clear();
  config.etc_resolv_conf = "nameserver 10.0.2.3\n";
  PodMounts resolv_only = plan_pod_mounts(config, "");
  ASSERT_EQ(resolv_only.files.size(), 1u);
  EXPECT_EQ(resolv_only.files[0].path, "/podrt/etc/resolv.conf");
  ASSERT_EQ(resolv_only.apps[0].binds.size(), 1u);
  EXPECT_EQ(resolv_only.apps[0].binds[0].target, "/etc/resolv.conf");
  EXPECT_FALSE(resolv_only.apps[0].binds[0].recursive);

  config.etc_resolv_conf.clear();
  EXPECT_TRUE(plan_pod_mounts(config, "").files.empty());
}

}  // namespace
}  // namespace podrt::guest_init
