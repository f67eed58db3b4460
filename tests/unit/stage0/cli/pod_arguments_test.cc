// The run/prepare flag parsers: rkt's syntax in, appc pod manifest pieces out, and a one-line
// error for everything else.
#include "stage0/cli/pod_arguments.h"

#include <gtest/gtest.h>

namespace podrt::cli {
namespace {

TEST(PodArgumentsTest, VolumesInRktsSyntax) {
  auto host = parse_volume("data,kind=host,source=/srv/data,readOnly=true");
  ASSERT_TRUE(host) << host.error().message();
  EXPECT_EQ(host->name, "data");
  EXPECT_EQ(host->kind, "host");
  EXPECT_EQ(host->source, "/srv/data");
  EXPECT_EQ(host->read_only, true);
  auto empty = parse_volume("scratch,kind=empty,mode=0700,uid=1000,gid=1000");
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_EQ(empty->mode, "0700");
  EXPECT_EQ(empty->uid, 1000u);

  for (const char* bad : {"data", "data,kind=nfs", "data,kind=host", "data,kind=host,source=rel",
                          "data,kind=empty,source=/x", "Bad Name,kind=empty", "d,kind=empty,mode=9",
                          "d,kind=host,source=/x,readOnly=yes", "d,kind=empty,kind=host",
                          "d,kind=empty,colour=blue", "d,kind=host,source=/x,uid=1"}) {
    auto parsed = parse_volume(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_EQ(parsed.error().message().find('\n'), std::string::npos);
    }
  }
}

TEST(PodArgumentsTest, MountsAndPorts) {
  auto mount = parse_mount("volume=data,target=/var/data");
  ASSERT_TRUE(mount);
  EXPECT_EQ(mount->volume, "data");
  EXPECT_EQ(mount->path, "/var/data");
  EXPECT_FALSE(parse_mount("volume=data"));
  EXPECT_FALSE(parse_mount("volume=data,target=relative"));

  auto port = parse_port("http:8080");
  ASSERT_TRUE(port);
  EXPECT_EQ(port->host_port, 8080);
  EXPECT_FALSE(port->host_ip);
  auto with_ip = parse_port("http:127.0.0.1:8080");
  ASSERT_TRUE(with_ip);
  EXPECT_EQ(with_ip->host_ip, "127.0.0.1");
  for (const char* bad : {"http", "http:0", "http:70000", "http:x", ":80", "a:b:c:d"})
    EXPECT_FALSE(parse_port(bad)) << bad;
}

TEST(PodArgumentsTest, IsolatorFlagsBecomeAppcIsolators) {
  auto seccomp = parse_seccomp("mode=remove,errno=EPERM,mount,umount2");
  ASSERT_TRUE(seccomp) << seccomp.error().message();
  EXPECT_EQ(seccomp->name, "os/linux/seccomp-remove-set");
  EXPECT_EQ(seccomp->value["set"], nlohmann::json({"mount", "umount2"}));
  EXPECT_EQ(seccomp->value["errno"], "EPERM");
  EXPECT_FALSE(parse_seccomp("mount"));
  EXPECT_FALSE(parse_seccomp("mode=retain"));

  auto caps = parse_capabilities("net_admin,CAP_CHOWN", true);
  ASSERT_TRUE(caps);
  EXPECT_EQ(caps->name, "os/linux/capabilities-retain-set");
  EXPECT_EQ(caps->value["set"], nlohmann::json({"CAP_NET_ADMIN", "CAP_CHOWN"}));

  auto rlimit = parse_rlimit("nofile=1024:4096");
  ASSERT_TRUE(rlimit);
  EXPECT_EQ(rlimit->first, "RLIMIT_NOFILE");
  EXPECT_EQ(rlimit->second["soft"], 1024);
  EXPECT_EQ(rlimit->second["hard"], 4096);
  EXPECT_FALSE(parse_rlimit("NOFILE=10:5"));
  EXPECT_FALSE(parse_rlimit("NOFILE"));

  auto variable = parse_environment_variable("A=b=c");
  ASSERT_TRUE(variable);
  EXPECT_EQ(variable->second, "b=c");
  EXPECT_FALSE(parse_environment_variable("=x"));
}

}  // namespace
}  // namespace podrt::cli
