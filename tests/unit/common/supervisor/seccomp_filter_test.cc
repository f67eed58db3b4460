#include "common/supervisor/seccomp_filter.h"

#include <sys/syscall.h>

#include <algorithm>

#include <gtest/gtest.h>

namespace podrt::supervisor {
namespace {

bool contains(const SyscallSet& set, int number) {
  return std::binary_search(set.numbers.begin(), set.numbers.end(), number);
}

TEST(SeccompFilter, WhitelistWildcardsExpandToDockersAllowList) {
  for (const char* wildcard : {"@docker/default-whitelist", "@rkt/default-whitelist"}) {
    auto set = expand_syscall_set({wildcard});
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_FALSE(set->all);
    EXPECT_GT(set->numbers.size(), 250u);
    EXPECT_TRUE(contains(*set, SYS_read));
    EXPECT_TRUE(contains(*set, SYS_execve));
    EXPECT_TRUE(contains(*set, SYS_clone));
    EXPECT_FALSE(contains(*set, SYS_mount));
    EXPECT_FALSE(contains(*set, SYS_ptrace));
    EXPECT_FALSE(contains(*set, SYS_kexec_load));
  }
}

TEST(SeccompFilter, BlacklistWildcardsHoldTheDangerousCalls) {
  auto set = expand_syscall_set({"@docker/default-blacklist"});
  ASSERT_TRUE(set) << set.error().message();
  for (int number : {SYS_mount, SYS_umount2, SYS_ptrace, SYS_bpf, SYS_kexec_load, SYS_unshare,
                     SYS_setns, SYS_reboot, SYS_init_module, SYS_keyctl, SYS_pivot_root})
    EXPECT_TRUE(contains(*set, number)) << number;
  EXPECT_FALSE(contains(*set, SYS_read));
  // The two lists never overlap: a name is either allowed or blocked by Docker's profile.
  auto whitelist = expand_syscall_set({"@docker/default-whitelist"});
  for (int number : set->numbers) EXPECT_FALSE(contains(*whitelist, number)) << number;
  EXPECT_EQ(expand_syscall_set({"@rkt/default-blacklist"})->numbers, set->numbers);
}

TEST(SeccompFilter, AppcWildcardsAndPlainNames) {
  EXPECT_TRUE(expand_syscall_set({"@appc.io/all"})->all);
  auto empty = expand_syscall_set({"@appc.io/empty"});
  EXPECT_FALSE(empty->all);
  EXPECT_TRUE(empty->numbers.empty());
  auto names = expand_syscall_set({"write", "read", "read", "chown32"});  // chown32: i386 only
  ASSERT_TRUE(names) << names.error().message();
  EXPECT_EQ(names->numbers, (std::vector<int>{SYS_read, SYS_write}));
}

TEST(SeccompFilter, UnknownNamesAreErrors) {
  EXPECT_EQ(expand_syscall_set({"read", "frobnicate"}).error().message(),
            "unknown syscall \"frobnicate\"");
  EXPECT_EQ(expand_syscall_set({"@systemd/clock"}).error().message(),
            "unknown seccomp wildcard \"@systemd/clock\"");
  EXPECT_FALSE(expand_syscall_set({""}));
  EXPECT_FALSE(SeccompFilter::build({SeccompPolicy::Mode::Retain, {"nope"}, std::nullopt}));
  EXPECT_FALSE(SeccompFilter::build({SeccompPolicy::Mode::Remove, {"read"}, "ENOTANERRNO"}));
}

TEST(SeccompFilter, ErrnoNames) {
  EXPECT_EQ(*errno_from_name("EPERM"), EPERM);
  EXPECT_EQ(*errno_from_name("ENOSYS"), ENOSYS);
  EXPECT_FALSE(errno_from_name("eperm"));
}

TEST(SeccompFilter, RetainAllBuildsNoFilterAndDefaultPolicyIsRkts) {
  auto all = SeccompFilter::build({SeccompPolicy::Mode::Retain, {"@appc.io/all"}, std::nullopt});
  ASSERT_TRUE(all);
  EXPECT_FALSE(all->active());
  auto none = SeccompFilter::build({SeccompPolicy::Mode::Remove, {"@appc.io/empty"}, "EPERM"});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->active());
  EXPECT_TRUE(SeccompFilter::build({SeccompPolicy::Mode::Remove, {"@appc.io/all"}, {}})->active());
  SeccompPolicy policy = default_seccomp_policy();
  EXPECT_EQ(policy.mode, SeccompPolicy::Mode::Retain);
  EXPECT_EQ(policy.syscalls, std::vector<std::string>{"@rkt/default-whitelist"});
  EXPECT_FALSE(policy.errno_name);
  auto built = SeccompFilter::build(policy);
  ASSERT_TRUE(built) << built.error().message();
  EXPECT_TRUE(built->active());
}

TEST(SeccompFilter, ACompiledProgramTravelsInThePlanAndLoadsAsIs) {
  auto built = SeccompFilter::build(default_seccomp_policy());
  ASSERT_TRUE(built) << built.error().message();
  auto program = built->export_bpf();
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_GT(program->size(), 100u * 8) << "Docker's allow-list is hundreds of instructions";
  EXPECT_EQ(program->size() % 8, 0u);
  auto loaded = SeccompFilter::from_bpf(*program);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->active());
  EXPECT_EQ(*loaded->export_bpf(), *program);
  EXPECT_FALSE(SeccompFilter::from_bpf("")) << "not a program";
  EXPECT_FALSE(SeccompFilter::from_bpf("12345")) << "not whole instructions";

  PodPlan plan;
  plan.status_dir = "/podrt/status";
  AppSpec app;
  app.name = "web";
  app.root = "/";
  app.exec = {"/bin/true"};
  app.seccomp = default_seccomp_policy();
  app.seccomp_bpf = *program;
  plan.apps.push_back(app);
  nlohmann::json json = to_json(plan);
  auto parsed = parse_pod_plan(json.dump());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->apps[0].seccomp_bpf, *program) << "binary-safe through JSON";
  json["apps"][0]["seccomp_bpf"] = "zz";
  EXPECT_FALSE(parse_pod_plan(json.dump()));
  json["apps"][0]["seccomp_bpf"] = "abc";
  EXPECT_FALSE(parse_pod_plan(json.dump()));
}

}  // namespace
}  // namespace podrt::supervisor
