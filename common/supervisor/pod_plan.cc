#include "common/supervisor/pod_plan.h"

#include <limits>

#include "common/supervisor/capabilities.h"
#include "common/supervisor/process_limits.h"
#include "common/supervisor/seccomp_filter.h"

namespace podrt::supervisor {
namespace {

using Json = nlohmann::json;

// Field readers: each checks the JSON type itself, so that nlohmann never throws, and names
// the field by its path ("apps[0].exec") in the error.

Result<void> check_object(const Json& object, const std::string& path,
                          std::initializer_list<std::string_view> known) {
  if (!object.is_object()) return Error::invalid(path + ": expected an object");
  for (const auto& item : object.items()) {
    bool found = false;
    for (std::string_view key : known) found = found || item.key() == key;
    if (!found) return Error::invalid(path + ": unknown field \"" + item.key() + "\"");
  }
  return ok();
}

const Json* member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string join(const std::string& path, const char* key) {
  return path.empty() ? std::string(key) : path + "." + key;
}

Result<std::string> read_string(const Json& value, const std::string& path) {
  if (!value.is_string()) return Error::invalid(path + ": expected a string");
  return value.get<std::string>();
}

// Reads an optional string field into `out`; a missing field keeps the default.
Result<void> read_string_field(const Json& object, const char* key, const std::string& path,
                               std::string& out, bool required = false) {
  const Json* value = member(object, key);
  if (value == nullptr) {
    if (required) return Error::invalid(join(path, key) + ": missing");
    return ok();
  }
  out = PODRT_TRY(read_string(*value, join(path, key)));
  return ok();
}

Result<int64_t> read_integer(const Json& value, const std::string& path, int64_t min,
                             int64_t max) {
  if (value.is_number_unsigned()) {
    auto number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(max))
      return Error::invalid(path + ": " + std::to_string(number) + " is out of range");
    return static_cast<int64_t>(number);
  }
  if (!value.is_number_integer()) return Error::invalid(path + ": expected an integer");
  auto number = value.get<int64_t>();
  if (number < min || number > max)
    return Error::invalid(path + ": " + std::to_string(number) + " is out of range");
  return number;
}

Result<uint64_t> read_unsigned(const Json& value, const std::string& path) {
  if (!value.is_number_unsigned()) return Error::invalid(path + ": expected an unsigned integer");
  return value.get<uint64_t>();
}

Result<std::vector<std::string>> read_string_list(const Json& value, const std::string& path) {
  if (!value.is_array()) return Error::invalid(path + ": expected an array of strings");
  std::vector<std::string> strings;
  strings.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i)
    strings.push_back(PODRT_TRY(read_string(value[i], path + "[" + std::to_string(i) + "]")));
  return strings;
}

Result<std::vector<std::string>> read_argv(const Json& value, const std::string& path) {
  std::vector<std::string> argv = PODRT_TRY(read_string_list(value, path));
  if (argv.empty() || argv[0].empty()) return Error::invalid(path + ": needs a program to run");
  return argv;
}

Result<std::vector<std::vector<std::string>>> read_handlers(const Json& value,
                                                             const std::string& path) {
  if (!value.is_array()) return Error::invalid(path + ": expected an array of argv arrays");
  std::vector<std::vector<std::string>> handlers;
  for (size_t i = 0; i < value.size(); ++i)
    handlers.push_back(PODRT_TRY(read_argv(value[i], path + "[" + std::to_string(i) + "]")));
  return handlers;
}

bool is_absolute_path(const std::string& path) { return !path.empty() && path[0] == '/'; }

// A compiled seccomp filter travels as lowercase hex: binary-safe in JSON, no codec library.
std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

Result<std::string> from_hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return Error::invalid("odd number of hex digits");
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = digit(hex[i]), low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return Error::invalid("not lowercase hex");
    bytes.push_back(static_cast<char>(high << 4 | low));
  }
  return bytes;
}

Result<SeccompPolicy> read_seccomp(const Json& value, const std::string& path) {
  PODRT_TRY(check_object(value, path, {"mode", "syscalls", "errno"}));
  SeccompPolicy policy;
  std::string mode;
  PODRT_TRY(read_string_field(value, "mode", path, mode, true));
  if (mode == "retain") {
    policy.mode = SeccompPolicy::Mode::Retain;
  } else if (mode == "remove") {
    policy.mode = SeccompPolicy::Mode::Remove;
  } else {
    return Error::invalid(path + ".mode: expected \"retain\" or \"remove\", not \"" + mode + "\"");
  }
  const Json* syscalls = member(value, "syscalls");
  if (syscalls == nullptr) return Error::invalid(path + ".syscalls: missing");
  policy.syscalls = PODRT_TRY(read_string_list(*syscalls, path + ".syscalls"));
  PODRT_TRY_CONTEXT(expand_syscall_set(policy.syscalls), path + ".syscalls");
  if (const Json* errno_value = member(value, "errno")) {
    policy.errno_name = PODRT_TRY(read_string(*errno_value, path + ".errno"));
    PODRT_TRY_CONTEXT(errno_from_name(*policy.errno_name), path + ".errno");
  }
  return policy;
}

Result<ResourceLimit> read_rlimit(const Json& value, const std::string& path) {
  PODRT_TRY(check_object(value, path, {"name", "soft", "hard"}));
  ResourceLimit limit;
  PODRT_TRY(read_string_field(value, "name", path, limit.name, true));
  PODRT_TRY_CONTEXT(rlimit_resource_from_name(limit.name), path + ".name");
  const Json* soft = member(value, "soft");
  const Json* hard = member(value, "hard");
  if (soft == nullptr) return Error::invalid(path + ".soft: missing");
  if (hard == nullptr) return Error::invalid(path + ".hard: missing");
  limit.soft = PODRT_TRY(read_unsigned(*soft, path + ".soft"));
  limit.hard = PODRT_TRY(read_unsigned(*hard, path + ".hard"));
  if (limit.soft > limit.hard) return Error::invalid(path + ": soft limit exceeds hard limit");
  return limit;
}

// An app name becomes a file name under status_dir: no separators, no dot entries.
Result<void> check_app_name(const std::string& name, const std::string& path) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos)
    return Error::invalid(path + ": \"" + name + "\" is not a valid app name");
  return ok();
}

Result<AppSpec> read_app(const Json& value, const std::string& path) {
  PODRT_TRY(check_object(
      value, path,
      {"name", "root", "exec", "environment", "working_directory", "user", "group",
       "supplementary_gids", "capabilities", "seccomp", "seccomp_bpf", "no_new_privileges", "rlimits",
       "oom_score_adj", "cgroup_procs_files", "pre_start", "post_stop", "terminal_fd"}));
  AppSpec app;
  PODRT_TRY(read_string_field(value, "name", path, app.name, true));
  PODRT_TRY(check_app_name(app.name, path + ".name"));
  PODRT_TRY(read_string_field(value, "root", path, app.root, true));
  if (!is_absolute_path(app.root)) return Error::invalid(path + ".root: must be an absolute path");
  const Json* exec = member(value, "exec");
  if (exec == nullptr) return Error::invalid(path + ".exec: missing");
  app.exec = PODRT_TRY(read_argv(*exec, path + ".exec"));
  if (const Json* environment = member(value, "environment")) {
    app.environment = PODRT_TRY(read_string_list(*environment, path + ".environment"));
    for (size_t i = 0; i < app.environment.size(); ++i) {
      if (app.environment[i].find('=') == std::string::npos || app.environment[i][0] == '=')
        return Error::invalid(path + ".environment[" + std::to_string(i) +
                              "]: expected NAME=value");
    }
  }
  PODRT_TRY(read_string_field(value, "working_directory", path, app.working_directory));
  if (!is_absolute_path(app.working_directory))
    return Error::invalid(path + ".working_directory: must be an absolute path");
  PODRT_TRY(read_string_field(value, "user", path, app.user));
  PODRT_TRY(read_string_field(value, "group", path, app.group));
  if (app.user.empty()) return Error::invalid(path + ".user: must not be empty");
  if (app.group.empty()) return Error::invalid(path + ".group: must not be empty");
  if (const Json* gids = member(value, "supplementary_gids")) {
    if (!gids->is_array()) return Error::invalid(path + ".supplementary_gids: expected an array");
    for (size_t i = 0; i < gids->size(); ++i) {
      int64_t gid = PODRT_TRY(read_integer((*gids)[i],
                                           path + ".supplementary_gids[" + std::to_string(i) + "]",
                                           0, std::numeric_limits<uint32_t>::max() - 1));
      app.supplementary_gids.push_back(static_cast<uint32_t>(gid));
    }
  }
  if (const Json* capabilities = member(value, "capabilities")) {
    app.capabilities = PODRT_TRY(read_string_list(*capabilities, path + ".capabilities"));
    for (size_t i = 0; i < app.capabilities.size(); ++i)
      PODRT_TRY_CONTEXT(capability_from_name(app.capabilities[i]),
                        path + ".capabilities[" + std::to_string(i) + "]");
  }
  if (const Json* seccomp = member(value, "seccomp"); seccomp != nullptr && !seccomp->is_null())
    app.seccomp = PODRT_TRY(read_seccomp(*seccomp, path + ".seccomp"));
  if (const Json* bpf = member(value, "seccomp_bpf")) {
    std::string hex = PODRT_TRY(read_string(*bpf, path + ".seccomp_bpf"));
    app.seccomp_bpf = PODRT_TRY_CONTEXT(from_hex(hex), path + ".seccomp_bpf");
    if (!app.seccomp) return Error::invalid(path + ".seccomp_bpf: without a seccomp policy");
  }
  if (const Json* nnp = member(value, "no_new_privileges")) {
    if (!nnp->is_boolean()) return Error::invalid(path + ".no_new_privileges: expected a boolean");
    app.no_new_privileges = nnp->get<bool>();
  }
  if (const Json* rlimits = member(value, "rlimits")) {
    if (!rlimits->is_array()) return Error::invalid(path + ".rlimits: expected an array");
    for (size_t i = 0; i < rlimits->size(); ++i)
      app.rlimits.push_back(
          PODRT_TRY(read_rlimit((*rlimits)[i], path + ".rlimits[" + std::to_string(i) + "]")));
  }
  if (const Json* oom = member(value, "oom_score_adj"); oom != nullptr && !oom->is_null())
    app.oom_score_adj =
        static_cast<int>(PODRT_TRY(read_integer(*oom, path + ".oom_score_adj", -1000, 1000)));
  if (const Json* files = member(value, "cgroup_procs_files")) {
    app.cgroup_procs_files = PODRT_TRY(read_string_list(*files, path + ".cgroup_procs_files"));
    for (const std::string& file : app.cgroup_procs_files)
      if (!is_absolute_path(file))
        return Error::invalid(path + ".cgroup_procs_files: \"" + file + "\" is not absolute");
  }
  if (const Json* handlers = member(value, "pre_start"))
    app.pre_start = PODRT_TRY(read_handlers(*handlers, path + ".pre_start"));
  if (const Json* handlers = member(value, "post_stop"))
    app.post_stop = PODRT_TRY(read_handlers(*handlers, path + ".post_stop"));
  if (const Json* fd = member(value, "terminal_fd"))
    app.terminal_fd = static_cast<int>(PODRT_TRY(
        read_integer(*fd, path + ".terminal_fd", -1, std::numeric_limits<int>::max())));
  return app;
}

Result<PodPlan> read_plan(const Json& root) {
  PODRT_TRY(check_object(root, "plan", {"apps", "status_dir", "stop_timeout_seconds"}));
  PodPlan plan;
  const Json* apps = member(root, "apps");
  if (apps == nullptr) return Error::invalid("apps: missing");
  if (!apps->is_array() || apps->empty()) return Error::invalid("apps: expected a non-empty array");
  for (size_t i = 0; i < apps->size(); ++i) {
    AppSpec app = PODRT_TRY(read_app((*apps)[i], "apps[" + std::to_string(i) + "]"));
    for (const AppSpec& earlier : plan.apps)
      if (earlier.name == app.name)
        return Error::invalid("apps[" + std::to_string(i) + "].name: \"" + app.name +
                              "\" is used twice");
    plan.apps.push_back(std::move(app));
  }
  PODRT_TRY(read_string_field(root, "status_dir", "", plan.status_dir, true));
  if (!is_absolute_path(plan.status_dir))
    return Error::invalid("status_dir: must be an absolute path");
  if (const Json* timeout = member(root, "stop_timeout_seconds"))
    plan.stop_timeout_seconds = static_cast<int>(
        PODRT_TRY(read_integer(*timeout, "stop_timeout_seconds", 0, 24 * 3600)));
  return plan;
}

Json seccomp_to_json(const SeccompPolicy& policy) {
  Json json = {{"mode", policy.mode == SeccompPolicy::Mode::Retain ? "retain" : "remove"},
               {"syscalls", policy.syscalls}};
  if (policy.errno_name) json["errno"] = *policy.errno_name;
  return json;
}

Json app_to_json(const AppSpec& app) {
  Json rlimits = Json::array();
  for (const ResourceLimit& limit : app.rlimits)
    rlimits.push_back({{"name", limit.name}, {"soft", limit.soft}, {"hard", limit.hard}});
  Json json = {{"name", app.name},
               {"root", app.root},
               {"exec", app.exec},
               {"environment", app.environment},
               {"working_directory", app.working_directory},
               {"user", app.user},
               {"group", app.group},
               {"supplementary_gids", app.supplementary_gids},
               {"capabilities", app.capabilities},
               {"no_new_privileges", app.no_new_privileges},
               {"rlimits", std::move(rlimits)},
               {"cgroup_procs_files", app.cgroup_procs_files},
               {"pre_start", app.pre_start},
               {"post_stop", app.post_stop},
               {"terminal_fd", app.terminal_fd}};
  if (app.seccomp) json["seccomp"] = seccomp_to_json(*app.seccomp);
  if (!app.seccomp_bpf.empty()) json["seccomp_bpf"] = to_hex(app.seccomp_bpf);
  if (app.oom_score_adj) json["oom_score_adj"] = *app.oom_score_adj;
  return json;
}

}  // namespace

Json to_json(const PodPlan& plan) {
  Json apps = Json::array();
  for (const AppSpec& app : plan.apps) apps.push_back(app_to_json(app));
  return {{"apps", std::move(apps)},
          {"status_dir", plan.status_dir},
          {"stop_timeout_seconds", plan.stop_timeout_seconds}};
}

Result<PodPlan> parse_pod_plan(std::string_view json_text) {
  // No exceptions: a parse error yields a "discarded" value instead.
  Json root = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Error::invalid("pod plan: not valid JSON");
  return PODRT_TRY_CONTEXT(read_plan(root), "pod plan");
}

}  // namespace podrt::supervisor
