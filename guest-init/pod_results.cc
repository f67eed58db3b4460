#include "guest-init/pod_results.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "common/sys/file.h"

namespace podrt::guest_init {
namespace {

std::optional<int> recorded_code(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text) return std::nullopt;
  int code = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), code);
  if (error != std::errc() || end == text->data()) return std::nullopt;
  return code;
}

}  // namespace

std::vector<AppResult> collect_results(const supervisor::PodPlan& plan,
                                       const std::vector<cgroups::Cgroup>& app_cgroups,
                                       int pod_code) {
  std::vector<AppResult> results;
  for (size_t i = 0; i < plan.apps.size(); ++i) {
    AppResult result;
    result.app = plan.apps[i].name;
    result.code = recorded_code(plan.status_dir + "/" + result.app).value_or(pod_code);
    if (i < app_cgroups.size()) {
      auto kills = app_cgroups[i].oom_kill_count();
      result.oom = kills && *kills > 0;
    }
    results.push_back(std::move(result));
  }
  return results;
}

std::string app_exited_payload(const AppResult& result) {
  nlohmann::json payload{{"app", result.app}, {"code", result.code}, {"oom", result.oom}};
  // Never throws (an abort under JSON_NOEXCEPTION) on a name that is not UTF-8.
  return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> report_pod_end(ControlChannel& channel, const std::vector<AppResult>& results,
                            int pod_code) {
  for (const AppResult& result : results)
    channel.queue(guest_protocol::FrameType::kAppExited, 0, app_exited_payload(result));
  channel.queue(guest_protocol::FrameType::kPodExited, 0, std::to_string(pod_code));
  return channel.flush_all();
}

}  // namespace podrt::guest_init
