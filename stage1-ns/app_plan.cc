#include "stage1-ns/app_plan.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "common/appc/environment.h"
#include "common/appc/isolators.h"
#include "common/supervisor/capabilities.h"
#include "common/supervisor/seccomp_filter.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage1-ns/seccomp_cache.h"

namespace podrt::stage1 {
namespace {

using appc::Environment;
using appc::set_default;
using appc::set_variable;

std::vector<std::string> json_strings(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (value.is_array())
    for (const auto& item : value)
      if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

bool is_root_user(const std::string& user) { return user.empty() || user == "0" || user == "root"; }

/// Applies the app's isolators to its spec and cgroup limits (rkt's stage1/init/common/app.go).
Result<void> apply_isolators(const LoadedApp& app, const RunOptions& options, AppPlan& plan) {
  supervisor::AppSpec& spec = plan.spec;
  spec.capabilities = supervisor::default_capabilities();
  if (!options.disable_seccomp) spec.seccomp = supervisor::default_seccomp_policy();
  for (const appc::Isolator& isolator : app.app.isolators) {
    const std::string& name = isolator.name;
    const nlohmann::json& value = isolator.value;
    if (name == "resource/memory" && value.contains("limit")) {
      auto bytes = appc::quantity_value(value["limit"]);
      if (!bytes || *bytes < 4096) return Error::invalid("app " + app.pod_app.name + ": memory limit too small");
      plan.limits.memory_bytes = static_cast<uint64_t>(std::llround(*bytes));
    } else if (name == "resource/cpu" && value.contains("limit")) {
      auto cores = appc::quantity_value(value["limit"]);
      if (!cores || *cores <= 0) return Error::invalid("app " + app.pod_app.name + ": bad cpu limit");
      plan.limits.cpu_millicores = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(*cores * 1000)));
    } else if (name == "os/linux/cpu-shares") {
      plan.limits.cpu_shares = value.get<uint64_t>();
    } else if (name == appc::kPidsLimitIsolator) {
      plan.limits.pids_max = value.value("max", uint64_t{0});
    } else if (name == "os/linux/oom-score-adj") {
      spec.oom_score_adj = value.get<int>();
    } else if (name == "os/linux/no-new-privileges") {
      spec.no_new_privileges = value.get<bool>();
    } else if (name == "os/linux/capabilities-retain-set") {
      spec.capabilities = json_strings(value["set"]);
    } else if (name == "os/linux/capabilities-remove-set") {
      for (const std::string& removed : json_strings(value["set"]))
        std::erase(spec.capabilities, removed);
    } else if (name == "os/linux/seccomp-retain-set" || name == "os/linux/seccomp-remove-set") {
      if (options.disable_seccomp) continue;
      supervisor::SeccompPolicy policy;
      policy.mode = name == "os/linux/seccomp-retain-set" ? supervisor::SeccompPolicy::Mode::Retain
                                                         : supervisor::SeccompPolicy::Mode::Remove;
      policy.syscalls = json_strings(value["set"]);
      if (value.contains("errno") && value["errno"].is_string() &&
          !value["errno"].get<std::string>().empty())
        policy.errno_name = value["errno"].get<std::string>();
      spec.seccomp = policy;
    } else if (name == appc::kRlimitsIsolator && value.is_object()) {
      for (const auto& [limit, bounds] : value.items())
        spec.rlimits.push_back({limit, bounds.value("soft", uint64_t{0}), bounds.value("hard", uint64_t{0})});
    }
  }
  if (options.disable_capabilities) {  // --insecure-options=capabilities: every capability
    spec.capabilities.clear();
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
      spec.capabilities.push_back(supervisor::capability_name(cap));
  }
  return ok();
}

/// The volumes the app mounts: its --mount entries, then its image's mount points (a pod
/// mount on the same path wins), each bound from the host or the pod's empty-volume dir.
Result<std::vector<rootfs::BindSpec>> volume_binds(const LoadedPod& pod, const LoadedApp& app) {
  std::vector<rootfs::BindSpec> binds;
  auto add = [&](const std::string& volume_name, const std::string& path,
                 bool mount_point_read_only) -> Result<void> {
    for (const rootfs::BindSpec& bind : binds)
      if (bind.target == path) return ok();
    const appc::Volume* volume = pod.manifest.volume(volume_name);
    if (volume == nullptr)
      return Error::invalid("app " + app.pod_app.name + ": no volume " + volume_name);
    rootfs::BindSpec bind;
    bind.volume = volume_name;
    bind.target = path;
    bind.read_only = volume->read_only.value_or(false) || mount_point_read_only;
    bind.recursive = volume->recursive.value_or(true);
    if (volume->kind == "host") {
      bind.source = volume->source;
      struct stat st;
      if (::stat(bind.source.c_str(), &st) != 0)
        return Error::from_errno("volume " + volume->name + ": source " + bind.source);
    } else {
      bind.source = pod.file(pods::kSharedVolumesDir) + "/" + volume->name;
      if (!sys::path_exists(bind.source)) {
        mode_t mode = static_cast<mode_t>(std::stoul(volume->mode.value_or("0755"), nullptr, 8));
        PODRT_TRY(sys::make_directories(bind.source, mode));
        if (::chmod(bind.source.c_str(), mode) != 0 ||
            ::chown(bind.source.c_str(), volume->uid.value_or(0), volume->gid.value_or(0)) != 0)
          return Error::from_errno("volume " + volume->name + ": set owner and mode");
      }
    }
    binds.push_back(std::move(bind));
    return ok();
  };
  for (const appc::Mount& mount : app.pod_app.mounts) PODRT_TRY(add(mount.volume, mount.path, false));
  for (const appc::MountPoint& point : app.app.mount_points)
    PODRT_TRY(add(point.name, point.path, point.read_only));
  return binds;
}

}  // namespace

Result<AppPlan> plan_app(const LoadedPod& pod, const LoadedApp& app, const RunOptions& options,
                         const std::string& root, const std::string& metadata_url) {
  AppPlan plan;
  supervisor::AppSpec& spec = plan.spec;
  spec.name = app.pod_app.name;
  spec.root = root;
  spec.exec = app.app.exec;
  spec.working_directory = app.app.working_directory.empty() ? "/" : app.app.working_directory;
  spec.user = app.app.user.empty() ? "0" : app.app.user;
  spec.group = app.app.group.empty() ? "0" : app.app.group;
  spec.supplementary_gids = app.app.supplementary_gids;
  for (const appc::EventHandler& handler : app.app.event_handlers) {
    if (handler.name == "pre-start") spec.pre_start.push_back(handler.exec);
    else if (handler.name == "post-stop") spec.post_stop.push_back(handler.exec);
  }

  // ace.md's required variables over the image's and the user's (they are the executor's),
  // rkt's defaults under them.
  Environment environment = app.app.environment;
  set_default(environment, "PATH", kDefaultPath);
  set_default(environment, "SHELL", "/bin/sh");
  if (is_root_user(spec.user)) {
    set_default(environment, "USER", "root");
    set_default(environment, "LOGNAME", "root");
    set_default(environment, "HOME", "/root");
  }
  set_variable(environment, "AC_APP_NAME", spec.name);
  set_variable(environment, "container", "podrt");
  if (!metadata_url.empty()) set_variable(environment, "AC_METADATA_URL", metadata_url);
  for (const auto& [name, value] : environment) spec.environment.push_back(name + "=" + value);

  PODRT_TRY(apply_isolators(app, options, plan));
  if (spec.seccomp)
    spec.seccomp_bpf = PODRT_TRY(compiled_seccomp(*spec.seccomp, pod.data_dir + "/cache/seccomp"));
  plan.volume_binds = PODRT_TRY(volume_binds(pod, app));
  return plan;
}

}  // namespace podrt::stage1
