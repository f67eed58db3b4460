#include "common/supervisor/pod_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace podrt::supervisor {
namespace {

PodPlan full_plan() {
  AppSpec app;
  app.name = "web";
  app.root = "/opt/stage2/web/rootfs";
  app.exec = {"/bin/httpd", "-f", "-p", "80"};
  app.environment = {"PATH=/bin:/usr/bin", "EMPTY="};
  app.working_directory = "/srv";
  app.user = "www-data";
  app.group = "1000";
  app.supplementary_gids = {10, 4294967294u};
  app.capabilities = {"CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
  app.seccomp = SeccompPolicy{SeccompPolicy::Mode::Remove, {"@docker/default-blacklist", "mkdir"},
                              "EPERM"};
  app.no_new_privileges = true;
  app.rlimits = {{"RLIMIT_NOFILE", 1024, 4096}, {"RLIMIT_CORE", 0, UINT64_MAX}};
  app.oom_score_adj = -500;
  app.cgroup_procs_files = {"/sys/fs/cgroup/pod/web/cgroup.procs"};
  app.pre_start = {{"/bin/prepare", "--fast"}};
  app.post_stop = {{"/bin/cleanup"}, {"/bin/report", "x"}};
  app.terminal_fd = 7;
  AppSpec second;
  second.name = "sidecar";
  second.root = "/opt/stage2/sidecar/rootfs";
  second.exec = {"sleep"};
  PodPlan plan;
  plan.apps = {app, second};
  plan.status_dir = "/podrt/status";
  plan.stop_timeout_seconds = 3;
  return plan;
}

TEST(PodPlan, RoundTripsEveryField) {
  PodPlan plan = full_plan();
  auto parsed = parse_pod_plan(to_json(plan).dump());
  ASSERT_TRUE(parsed) << parsed.error().message();
  // Serialising again must give the same document: nothing was lost or defaulted away.
  EXPECT_EQ(to_json(*parsed), to_json(plan));
  const AppSpec& app = parsed->apps[0];
  EXPECT_EQ(app.exec, plan.apps[0].exec);
  EXPECT_EQ(app.supplementary_gids, plan.apps[0].supplementary_gids);
  EXPECT_EQ(app.rlimits[1].hard, UINT64_MAX);
  ASSERT_TRUE(app.seccomp);
  EXPECT_EQ(app.seccomp->mode, SeccompPolicy::Mode::Remove);
  EXPECT_EQ(app.seccomp->errno_name, "EPERM");
  EXPECT_EQ(app.oom_score_adj, -500);
  EXPECT_EQ(app.terminal_fd, 7);
  EXPECT_FALSE(parsed->apps[1].seccomp);
  EXPECT_FALSE(parsed->apps[1].oom_score_adj);
  EXPECT_EQ(parsed->stop_timeout_seconds, 3);
}

TEST(PodPlan, MinimalAppGetsDefaults) {
  auto parsed = parse_pod_plan(
      R"({"apps":[{"name":"a","root":"/r","exec":["/bin/true"]}],"status_dir":"/s"})");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->apps[0].user, "0");
  EXPECT_EQ(parsed->apps[0].working_directory, "/");
  EXPECT_EQ(parsed->apps[0].terminal_fd, -1);
  EXPECT_EQ(parsed->stop_timeout_seconds, 10);
}

std::string error_for(const std::string& json) {
  auto parsed = parse_pod_plan(json);
  return parsed ? "parsed" : parsed.error().message();
}

// Splices `app_fields` into an otherwise valid one-app plan.
std::string with_app(const std::string& app_fields) {
  return R"({"status_dir":"/s","apps":[{"name":"a","root":"/r","exec":["/bin/true"])" +
         app_fields + "}]}";
}

TEST(PodPlan, RejectsHostileInputWithOneLineErrors) {
  struct Case {
    std::string json;
    std::string error;
  };
  const Case cases[] = {
      {"", "pod plan: not valid JSON"},
      {"{\"apps\": [", "pod plan: not valid JSON"},
      {std::string(100000, '[') , "pod plan: not valid JSON"},
      {"[]", "pod plan: plan: expected an object"},
      {R"({"status_dir":"/s"})", "pod plan: apps: missing"},
      {R"({"status_dir":"/s","apps":[]})", "pod plan: apps: expected a non-empty array"},
      {R"({"apps":[{"name":"a","root":"/r","exec":["/x"]}]})", "pod plan: status_dir: missing"},
      {R"({"status_dir":"s","apps":[{"name":"a","root":"/r","exec":["/x"]}]})",
       "pod plan: status_dir: must be an absolute path"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"/r"}]})",
       "pod plan: apps[0].exec: missing"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"/r","exec":[]}]})",
       "pod plan: apps[0].exec: needs a program to run"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"/r","exec":"/bin/sh"}]})",
       "pod plan: apps[0].exec: expected an array of strings"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"/r","exec":["/x", 1]}]})",
       "pod plan: apps[0].exec[1]: expected a string"},
      {R"({"status_dir":"/s","apps":[{"name":"../etc","root":"/r","exec":["/x"]}]})",
       "pod plan: apps[0].name: \"../etc\" is not a valid app name"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"r","exec":["/x"]}]})",
       "pod plan: apps[0].root: must be an absolute path"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"/r","exec":["/x"]},)"
       R"({"name":"a","root":"/r","exec":["/x"]}]})",
       "pod plan: apps[1].name: \"a\" is used twice"},
      {R"({"status_dir":"/s","apps":[{"name":"a","root":"/r","exec":["/x"]}],"extra":1})",
       "pod plan: plan: unknown field \"extra\""},
      {with_app(R"(,"shell":"/bin/sh")"), "pod plan: apps[0]: unknown field \"shell\""},
      {with_app(R"(,"environment":["NOEQUALS"])"),
       "pod plan: apps[0].environment[0]: expected NAME=value"},
      {with_app(R"(,"working_directory":"srv")"),
       "pod plan: apps[0].working_directory: must be an absolute path"},
      {with_app(R"(,"user":"")"), "pod plan: apps[0].user: must not be empty"},
      {with_app(R"(,"user":0)"), "pod plan: apps[0].user: expected a string"},
      {with_app(R"(,"supplementary_gids":[-1])"),
       "pod plan: apps[0].supplementary_gids[0]: -1 is out of range"},
      {with_app(R"(,"supplementary_gids":[4294967295])"),
       "pod plan: apps[0].supplementary_gids[0]: 4294967295 is out of range"},
      {with_app(R"(,"supplementary_gids":[1.5])"),
       "pod plan: apps[0].supplementary_gids[0]: expected an integer"},
      {with_app(R"(,"capabilities":["CAP_NOPE"])"),
       "pod plan: apps[0].capabilities[0]: unknown capability \"CAP_NOPE\""},
      {with_app(R"(,"capabilities":["12"])"),
       "pod plan: apps[0].capabilities[0]: unknown capability \"12\""},
      {with_app(R"(,"seccomp":{"mode":"allow","syscalls":[]})"),
       "pod plan: apps[0].seccomp.mode: expected \"retain\" or \"remove\", not \"allow\""},
      {with_app(R"(,"seccomp":{"mode":"retain","syscalls":["read","nosuchcall"]})"),
       "pod plan: apps[0].seccomp.syscalls: unknown syscall \"nosuchcall\""},
      {with_app(R"(,"seccomp":{"mode":"retain","syscalls":["@rkt/nope"]})"),
       "pod plan: apps[0].seccomp.syscalls: unknown seccomp wildcard \"@rkt/nope\""},
      {with_app(R"(,"seccomp":{"mode":"retain","syscalls":["read"],"errno":"EWHAT"})"),
       "pod plan: apps[0].seccomp.errno: unknown errno \"EWHAT\""},
      {with_app(R"(,"rlimits":[{"name":"RLIMIT_FOO","soft":1,"hard":1}])"),
       "pod plan: apps[0].rlimits[0].name: unknown resource limit \"RLIMIT_FOO\""},
      {with_app(R"(,"rlimits":[{"name":"RLIMIT_NOFILE","soft":2,"hard":1}])"),
       "pod plan: apps[0].rlimits[0]: soft limit exceeds hard limit"},
      {with_app(R"(,"rlimits":[{"name":"RLIMIT_NOFILE","soft":-1,"hard":1}])"),
       "pod plan: apps[0].rlimits[0].soft: expected an unsigned integer"},
      {with_app(R"(,"oom_score_adj":1001)"),
       "pod plan: apps[0].oom_score_adj: 1001 is out of range"},
      {with_app(R"(,"terminal_fd":-2)"), "pod plan: apps[0].terminal_fd: -2 is out of range"},
      {with_app(R"(,"pre_start":[[]])"),
       "pod plan: apps[0].pre_start[0]: needs a program to run"},
      {with_app(R"(,"no_new_privileges":"yes")"),
       "pod plan: apps[0].no_new_privileges: expected a boolean"},
      {with_app(R"(,"cgroup_procs_files":["cgroup.procs"])"),
       "pod plan: apps[0].cgroup_procs_files: \"cgroup.procs\" is not absolute"},
      {R"({"status_dir":"/s","stop_timeout_seconds":1e300,"apps":[{"name":"a","root":"/r","exec":["/x"]}]})",
       "pod plan: stop_timeout_seconds: expected an integer"},
      {R"({"status_dir":"/s","stop_timeout_seconds":18446744073709551615,"apps":[{"name":"a","root":"/r","exec":["/x"]}]})",
       "pod plan: stop_timeout_seconds: 18446744073709551615 is out of range"},
  };
  for (const Case& c : cases) {
    std::string error = error_for(c.json);
    EXPECT_EQ(error, c.error) << "input: " << c.json.substr(0, 200);
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace podrt::supervisor
