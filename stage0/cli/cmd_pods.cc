// Pod commands: podrt list | status | cat-manifest | rm | gc.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/appc/pod_manifest.h"
#include "common/sys/file.h"
#include "stage0/cli/arguments.h"
#include "stage0/cli/command.h"
#include "stage0/cli/output.h"
#include "stage0/pods/pod_files.h"
#include "stage0/pods/pod_store.h"
#include "stage0/pods/pod_waiter.h"
#include "stage0/pods/stage1_launcher.h"
#include "stage1-ns/network/pod_network.h"

namespace podrt::cli {
namespace {

struct PodOptions {
  std::vector<std::string> uuids;
  std::string uuid;
  std::string format = "text";
  std::string grace_period = "30m";
  std::string expire_prepared = "24h";
  bool full = false;
  bool no_legend = false;
  bool mark_only = false;
  bool pretty_print = true;
  std::optional<std::string> wait;  ///< --wait[=DURATION]: "" waits forever
};

std::string pod_file(const pods::PodInfo& pod, std::string_view name) {
  return pod.path + "/" + std::string(name);
}

/// The pod manifest of a pod that has one (embryos do not).
std::optional<appc::PodManifest> read_pod_manifest(const pods::PodInfo& pod) {
  auto text = sys::read_file(pod_file(pod, pods::kPodManifestFile));
  if (!text) return std::nullopt;
  auto manifest = appc::PodManifest::parse(*text);
  if (!manifest) return std::nullopt;
  return std::move(*manifest);
}

/// app name -> exit code, for the apps that have exited (written by stage1).
std::vector<std::pair<std::string, std::string>> app_exit_codes(const pods::PodInfo& pod,
                                                                const appc::PodManifest& manifest) {
  std::vector<std::pair<std::string, std::string>> codes;
  for (const appc::PodApp& app : manifest.apps) {
    auto code = sys::read_file(pod_file(pod, pods::kAppStatusDir) + "/" + app.name);
    if (code) codes.emplace_back(app.name, *code);
  }
  return codes;
}

/// The pod store, with stage1's gc entrypoint run on every pod that ran before it goes.
Result<pods::PodStore> open_pod_store_with_gc(const GlobalOptions& globals) {
  pods::PodStore store = PODRT_TRY(pods::PodStore::open(globals.dir));
  std::string data_dir = globals.dir;
  store.set_stage1_gc([data_dir](const std::string& pod_path) -> Result<void> {
    std::string uuid = pod_path.substr(pod_path.rfind('/') + 1);
    int code = PODRT_TRY(pods::run_stage1_entrypoint(pod_path, "gc", {"--dir=" + data_dir, uuid},
                                                     /*replace=*/false));
    if (code != 0) return Error::invalid("stage1 gc exited with " + std::to_string(code));
    return ok();
  });
  return store;
}

Result<int> list(const GlobalOptions& globals, const PodOptions& options) {
  pods::PodStore store = PODRT_TRY(pods::PodStore::open(globals.dir));
  std::vector<pods::PodInfo> pods = PODRT_TRY(store.list());
  if (options.format != "text") {
    nlohmann::json out = nlohmann::json::array();
    for (const pods::PodInfo& pod : pods) {
      nlohmann::json entry = {{"name", pod.uuid}, {"state", pods::state_name(pod.state)},
                              {"created_at", pod.created}};
      if (pod.started) entry["started_at"] = *pod.started;
      nlohmann::json apps = nlohmann::json::array();
      if (auto manifest = read_pod_manifest(pod))
        for (const appc::PodApp& app : manifest->apps)
          apps.push_back({{"name", app.name}, {"image_id", app.image.id},
                          {"image_name", app.image.name.value_or("")}});
      entry["apps"] = apps;
      out.push_back(entry);
    }
    std::printf("%s\n", out.dump(options.format == "json-pretty" ? 2 : -1).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"UUID", "APP", "IMAGE NAME", "STATE", "CREATED", "STARTED", "NETWORKS"}};
  for (const pods::PodInfo& pod : pods) {
    std::string uuid = options.full ? pod.uuid : pod.uuid.substr(0, 8);
    std::string networks;
    if (pod.state == pods::PodState::Running)
      for (const auto& net : stage1::network::read_pod_network(pod.path).value_or(
               std::vector<stage1::network::NetworkAttachment>{}))
        networks += (networks.empty() ? "" : ",") + net.network + ":ip4=" + net.ip;
    std::vector<std::string> row = {uuid, "-", "-", std::string(pods::state_name(pod.state)),
                                    format_time(pod.created),
                                    pod.started ? format_time(*pod.started) : "", networks};
    auto manifest = read_pod_manifest(pod);
    if (!manifest || manifest->apps.empty()) {
      rows.push_back(row);
      continue;
    }
    // One line per app, rkt style: the pod columns only on the first.
    for (size_t i = 0; i < manifest->apps.size(); ++i) {
      const appc::PodApp& app = manifest->apps[i];
      row[1] = app.name;
      row[2] = app.image.name.value_or(short_image_id(app.image.id));
      rows.push_back(row);
      if (i == 0) row = {"", "", "", "", "", "", ""};
    }
  }
  print_table(rows, !options.no_legend);
  return 0;
}

Result<int> status(const GlobalOptions& globals, const PodOptions& options) {
  pods::PodStore store = PODRT_TRY(pods::PodStore::open(globals.dir));
  pods::PodInfo pod = PODRT_TRY(store.find(options.uuid));
  if (options.wait && (pod.state == pods::PodState::Running)) {
    int64_t timeout = options.wait->empty() ? -1 : PODRT_TRY(parse_duration(*options.wait));
    if (!PODRT_TRY(pods::wait_for_exit(pod.path, timeout)))
      return Error::invalid("pod " + pod.uuid + " is still running after --wait=" + *options.wait);
    pod = PODRT_TRY(store.find(pod.uuid));
  }
  std::optional<std::string> pid;
  // stage1 writes the pid once the pod's PID 1 runs; a pod still starting has none yet.
  if (pod.state == pods::PodState::Running)
    if (auto text = sys::read_file(pod_file(pod, pods::kPidFile)); text && !text->empty()) pid = *text;
  std::vector<stage1::network::NetworkAttachment> networks =
      stage1::network::read_pod_network(pod.path).value_or(
          std::vector<stage1::network::NetworkAttachment>{});
  auto manifest = read_pod_manifest(pod);
  auto codes = manifest ? app_exit_codes(pod, *manifest)
                        : std::vector<std::pair<std::string, std::string>>{};
  bool exited = pod.state == pods::PodState::Exited || pod.state == pods::PodState::ExitedGarbage;
  if (options.format != "text") {
    nlohmann::json out = {{"name", pod.uuid}, {"state", pods::state_name(pod.state)},
                          {"created_at", pod.created}, {"exited", exited}};
    if (pod.started) out["started_at"] = *pod.started;
    if (pid) out["pid"] = *pid;
    nlohmann::json nets = nlohmann::json::array();
    for (const auto& net : networks)
      nets.push_back({{"netName", net.network}, {"ifName", net.interface}, {"ip", net.ip}});
    out["networks"] = nets;
    nlohmann::json apps = nlohmann::json::object();
    for (const auto& [app, code] : codes) apps[app] = code;
    out["app_exit_codes"] = apps;
    std::printf("%s\n", out.dump(options.format == "json-pretty" ? 2 : -1).c_str());
    return 0;
  }
  std::printf("state=%s\n", std::string(pods::state_name(pod.state)).c_str());
  std::printf("created=%s\n", format_time(pod.created).c_str());
  std::printf("started=%s\n", pod.started ? format_time(*pod.started).c_str() : "");
  std::string nets;
  for (const auto& net : networks)
    nets += (nets.empty() ? "" : ",") + net.network + ":ip4=" + net.ip;
  std::printf("networks=%s\n", nets.c_str());
  if (pid) std::printf("pid=%s\n", pid->c_str());
  std::printf("exited=%s\n", exited ? "true" : "false");
  for (const auto& [app, code] : codes) std::printf("app-%s=%s\n", app.c_str(), code.c_str());
  return 0;
}

Result<int> cat_manifest(const GlobalOptions& globals, const PodOptions& options) {
  pods::PodStore store = PODRT_TRY(pods::PodStore::open(globals.dir));
  pods::PodInfo pod = PODRT_TRY(store.find(options.uuid));
  std::string text = PODRT_TRY(sys::read_file(pod_file(pod, pods::kPodManifestFile)));
  nlohmann::json manifest = nlohmann::json::parse(text, nullptr, false);
  std::printf("%s\n", options.pretty_print && !manifest.is_discarded() ? manifest.dump(4).c_str()
                                                                        : text.c_str());
  return 0;
}

Result<int> remove(const GlobalOptions& globals, const PodOptions& options) {
  pods::PodStore store = PODRT_TRY(open_pod_store_with_gc(globals));
  // Every UUID is checked before any pod goes, so a typo removes nothing.
  std::vector<pods::PodInfo> found;
  for (const std::string& uuid : options.uuids) found.push_back(PODRT_TRY(store.find(uuid)));
  for (const pods::PodInfo& pod : found) {
    PODRT_TRY(store.remove(pod.uuid));
    std::printf("%s\n", pod.uuid.c_str());
  }
  return 0;
}

Result<int> gc(const GlobalOptions& globals, const PodOptions& options) {
  int64_t grace = PODRT_TRY(parse_duration(options.grace_period));
  int64_t expire = PODRT_TRY(parse_duration(options.expire_prepared));
  pods::PodStore store = PODRT_TRY(open_pod_store_with_gc(globals));
  pods::PodGcReport report = PODRT_TRY(store.gc(grace, expire, options.mark_only));
  for (const std::string& uuid : report.marked)
    std::printf("moving pod %s to garbage\n", uuid.c_str());
  for (const std::string& uuid : report.removed)
    std::printf("garbage collecting pod %s\n", uuid.c_str());
  return 0;
}

void add_format_option(CLI::App* command, PodOptions& options) {
  command->add_option("--format", options.format, "text, json or json-pretty")
      ->check(CLI::IsMember({"text", "json", "json-pretty"}));
}

}  // namespace

void register_pod_commands(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<PodOptions>();

  CLI::App* list_command = add_command(app, context, options, "list", "list pods", list);
  list_command->add_flag("--full", options->full, "print full UUIDs");
  list_command->add_flag("--no-legend", options->no_legend, "omit the table header");
  add_format_option(list_command, *options);

  CLI::App* status_command =
      add_command(app, context, options, "status", "print a pod's status", status);
  status_command->add_option("uuid", options->uuid, "pod UUID (or a unique prefix)")->required();
  add_format_option(status_command, *options);
  status_command->add_option("--wait", options->wait, "wait for the pod to exit (up to DURATION)")
      ->expected(0, 1);

  CLI::App* cat_command = add_command(app, context, options, "cat-manifest",
                                             "print a pod's manifest", cat_manifest);
  cat_command->add_option("uuid", options->uuid, "pod UUID (or a unique prefix)")->required();
  cat_command->add_option("--pretty-print", options->pretty_print, "indent the JSON");

  CLI::App* rm_command = add_command(app, context, options, "rm",
                                            "remove exited or prepared pods now", remove);
  rm_command->add_option("uuid", options->uuids, "pod UUIDs")->required();

  CLI::App* gc_command = add_command(app, context, options, "gc",
                                            "garbage-collect exited and stale pods", gc);
  gc_command->add_option("--grace-period", options->grace_period,
                         "how long exited pods are kept")->capture_default_str();
  gc_command->add_option("--expire-prepared", options->expire_prepared,
                         "how long prepared pods are kept")->capture_default_str();
  gc_command->add_flag("--mark-only", options->mark_only, "only mark pods as garbage");
}

}  // namespace podrt::cli
