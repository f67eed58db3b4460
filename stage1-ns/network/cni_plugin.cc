#include "stage1-ns/network/cni_plugin.h"

#include <unistd.h>

#include <cstdlib>

#include "stage1-ns/network/child_process.h"

namespace podrt::stage1::network {
namespace {

using nlohmann::json;

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : separator) + part;
  return joined;
}

/// Users get one line: newlines in a plugin's message are folded.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

std::string failure_message(const ProcessOutput& output) {
  try {
    json error = json::parse(output.out);
    if (error.is_object() && error.contains("msg") && error["msg"].is_string()) {
      std::string message = error["msg"].get<std::string>();
      if (error.contains("details") && error["details"].is_string() &&
          !error["details"].get<std::string>().empty())
        message += ": " + error["details"].get<std::string>();
      return one_line(message);
    }
  } catch (const json::exception&) {
  }
  // No error JSON: the last line of stderr is the best a user can get.
  std::string err = output.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (auto newline = err.rfind('\n'); newline != std::string::npos) err.erase(0, newline + 1);
  std::string message = "exited with status " + std::to_string(output.exit_code);
  return err.empty() ? message : message + ": " + err;
}

}  // namespace

Result<std::string> find_cni_plugin(const std::string& type,
                                    const std::vector<std::string>& dirs) {
  if (type.empty() || type.find('/') != std::string::npos || type == "." || type == "..")
    return Error::invalid("invalid CNI plugin type \"" + type + "\"");
  for (const auto& dir : dirs) {
    std::string path = dir + "/" + type;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return Error::invalid("CNI plugin \"" + type + "\" not found in " + join(dirs, ":"));
}

Result<nlohmann::json> run_cni_plugin(const json& config, const CniCall& call) {
  std::string type;
  if (config.contains("type") && config["type"].is_string()) type = config["type"];
  if (type.empty()) return Error::invalid("network config has no plugin \"type\"");
  std::string plugin = PODRT_TRY(find_cni_plugin(type, call.plugin_dirs));

  // Plugins run iptables, ip, ... so they need a PATH, and nothing else from our environment.
  const char* path = std::getenv("PATH");
  std::vector<std::string> env = {
      "CNI_COMMAND=" + call.command,
      "CNI_CONTAINERID=" + call.container_id,
      "CNI_NETNS=" + call.netns,
      "CNI_IFNAME=" + call.ifname,
      "CNI_ARGS=" + call.args,
      "CNI_PATH=" + join(call.plugin_dirs, ":"),
      std::string("PATH=") + (path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
  };
  auto output = run_process({plugin}, env, config.dump(), call.timeout);
  if (!output) return std::move(output).error().with_context(type);
  if (output->exit_code != 0) return Error::invalid(type + ": " + failure_message(*output));
  if (call.command != "ADD" && call.command != "VERSION") return json::object();
  try {
    json result = json::parse(output->out);
    if (!result.is_object()) return Error::invalid(type + ": result is not a JSON object");
    return result;
  } catch (const json::exception& e) {
    return Error::invalid(type + ": unreadable result: " + one_line(e.what()));
  }
}

}  // namespace podrt::stage1::network
