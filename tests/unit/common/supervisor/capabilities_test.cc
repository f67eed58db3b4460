#include "common/supervisor/capabilities.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

namespace podrt::supervisor {
namespace {

TEST(Capabilities, NamesMapToNumbersAndBack) {
  EXPECT_EQ(*capability_from_name("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(*capability_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(*capability_from_name("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
  EXPECT_EQ(capability_name(CAP_SYS_CHROOT), "CAP_SYS_CHROOT");
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
    EXPECT_EQ(*capability_from_name(capability_name(cap)), cap) << capability_name(cap);
}

TEST(Capabilities, RejectsWhatAppcDoesNotWrite) {
  EXPECT_EQ(capability_from_name("CAP_NOPE").error().message(), "unknown capability \"CAP_NOPE\"");
  EXPECT_FALSE(capability_from_name("cap_chown"));
  EXPECT_FALSE(capability_from_name("CHOWN"));
  EXPECT_FALSE(capability_from_name("0"));
  EXPECT_FALSE(capability_from_name("CAP_"));
  EXPECT_FALSE(capability_from_name(""));
}

TEST(Capabilities, DefaultSetIsAppcs) {
  const std::vector<std::string> expected = {
      "CAP_AUDIT_WRITE", "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",
      "CAP_FOWNER",      "CAP_KILL",   "CAP_MKNOD",        "CAP_NET_RAW",
      "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP",
      "CAP_SETFCAP",     "CAP_SYS_CHROOT"};
  EXPECT_EQ(default_capabilities(), expected);
  for (const std::string& name : default_capabilities()) EXPECT_TRUE(capability_from_name(name));
}

}  // namespace
}  // namespace podrt::supervisor
