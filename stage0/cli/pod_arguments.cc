#include "stage0/cli/pod_arguments.h"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "common/appc/identifiers.h"

namespace podrt::cli {
namespace {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

Result<bool> parse_bool(std::string_view flag, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return Error::invalid(std::string(flag) + ": \"" + std::string(value) + "\" is not true or false");
}

Result<uint64_t> parse_number(std::string_view flag, std::string_view value, int base = 10) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number, base);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty())
    return Error::invalid(std::string(flag) + ": \"" + std::string(value) + "\" is not a number");
  return number;
}

/// "key=value,key=value" after a leading NAME, as rkt's volume and mount flags are written.
Result<std::map<std::string, std::string>> parse_fields(std::string_view flag,
                                                        const std::vector<std::string>& parts,
                                                        size_t first) {
  std::map<std::string, std::string> fields;
  for (size_t i = first; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    if (eq == std::string::npos || eq == 0)
      return Error::invalid(std::string(flag) + ": \"" + parts[i] + "\" is not key=value");
    if (!fields.emplace(parts[i].substr(0, eq), parts[i].substr(eq + 1)).second)
      return Error::invalid(std::string(flag) + ": " + parts[i].substr(0, eq) + " given twice");
  }
  return fields;
}

}  // namespace

Result<appc::Volume> parse_volume(std::string_view text) {
  std::vector<std::string> parts = split(text, ',');
  appc::Volume volume;
  volume.name = parts[0];
  PODRT_TRY_CONTEXT(appc::validate_ac_name(volume.name), "--volume name");
  auto fields = PODRT_TRY(parse_fields("--volume", parts, 1));
  for (const auto& [key, value] : fields) {
    if (key == "kind") {
      if (value != "host" && value != "empty")
        return Error::invalid("--volume " + volume.name + ": kind must be host or empty");
      volume.kind = value;
    } else if (key == "source") {
      volume.source = value;
    } else if (key == "readOnly") {
      volume.read_only = PODRT_TRY(parse_bool("--volume readOnly", value));
    } else if (key == "recursive") {
      volume.recursive = PODRT_TRY(parse_bool("--volume recursive", value));
    } else if (key == "mode") {
      PODRT_TRY(parse_number("--volume mode", value, 8));
      volume.mode = value;
    } else if (key == "uid") {
      volume.uid = static_cast<uint32_t>(PODRT_TRY(parse_number("--volume uid", value)));
    } else if (key == "gid") {
      volume.gid = static_cast<uint32_t>(PODRT_TRY(parse_number("--volume gid", value)));
    } else {
      return Error::invalid("--volume " + volume.name + ": unknown field " + key);
    }
  }
  if (volume.kind.empty()) return Error::invalid("--volume " + volume.name + ": kind= is missing");
  if (volume.kind == "host") {
    if (!appc::is_absolute_path(volume.source))
      return Error::invalid("--volume " + volume.name + ": source= must be an absolute path");
    if (volume.mode || volume.uid || volume.gid)
      return Error::invalid("--volume " + volume.name + ": mode, uid, gid are for kind=empty");
  } else if (!volume.source.empty()) {
    return Error::invalid("--volume " + volume.name + ": kind=empty takes no source");
  }
  return volume;
}

Result<appc::Mount> parse_mount(std::string_view text) {
  auto fields = PODRT_TRY(parse_fields("--mount", split(text, ','), 0));
  appc::Mount mount;
  for (const auto& [key, value] : fields) {
    if (key == "volume") mount.volume = value;
    else if (key == "target") mount.path = value;
    else return Error::invalid("--mount: unknown field " + key);
  }
  if (mount.volume.empty() || mount.path.empty())
    return Error::invalid("--mount needs volume=NAME,target=PATH");
  PODRT_TRY_CONTEXT(appc::validate_ac_name(mount.volume), "--mount volume");
  if (!appc::is_absolute_path(mount.path))
    return Error::invalid("--mount target " + mount.path + ": must be an absolute path");
  return mount;
}

Result<appc::ExposedPort> parse_port(std::string_view text) {
  std::vector<std::string> parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3)
    return Error::invalid("--port " + std::string(text) + ": expected NAME:[HOSTIP:]HOSTPORT");
  appc::ExposedPort port;
  port.name = parts[0];
  PODRT_TRY_CONTEXT(appc::validate_ac_name(port.name), "--port name");
  if (parts.size() == 3) port.host_ip = parts[1];
  uint64_t number = PODRT_TRY(parse_number("--port", parts.back()));
  if (number == 0 || number > 65535)
    return Error::invalid("--port " + std::string(text) + ": host port must be 1..65535");
  port.host_port = static_cast<uint16_t>(number);
  return port;
}

Result<std::pair<std::string, std::string>> parse_environment_variable(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return Error::invalid("environment \"" + std::string(text) + "\": expected NAME=VALUE");
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Result<appc::Isolator> parse_seccomp(std::string_view text) {
  std::vector<std::string> parts = split(text, ',');
  std::string mode;
  std::optional<std::string> errno_name;
  nlohmann::json syscalls = nlohmann::json::array();
  for (const std::string& part : parts) {
    if (part.rfind("mode=", 0) == 0) mode = part.substr(5);
    else if (part.rfind("errno=", 0) == 0) errno_name = part.substr(6);
    else if (!part.empty()) syscalls.push_back(part);
  }
  if (mode != "retain" && mode != "remove")
    return Error::invalid("--seccomp: mode=retain or mode=remove is required");
  if (syscalls.empty()) return Error::invalid("--seccomp: no syscall given");
  appc::Isolator isolator;
  isolator.name = "os/linux/seccomp-" + mode + "-set";
  isolator.value = {{"set", syscalls}};
  if (errno_name) isolator.value["errno"] = *errno_name;
  return isolator;
}

Result<appc::Isolator> parse_capabilities(std::string_view text, bool retain) {
  nlohmann::json set = nlohmann::json::array();
  for (std::string name : split(text, ',')) {
    if (name.empty()) continue;
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
    set.push_back(name);
  }
  if (set.empty()) return Error::invalid("--caps-retain/--caps-remove: no capability given");
  return appc::Isolator{retain ? "os/linux/capabilities-retain-set"
                               : "os/linux/capabilities-remove-set",
                        {{"set", set}}};
}

Result<std::pair<std::string, nlohmann::json>> parse_rlimit(std::string_view text) {
  auto [name, limits] = PODRT_TRY(parse_environment_variable(text));
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  if (name.rfind("RLIMIT_", 0) != 0) name = "RLIMIT_" + name;
  std::vector<std::string> values = split(limits, ':');
  if (values.size() > 2) return Error::invalid("--rlimit " + std::string(text) + ": SOFT[:HARD]");
  auto limit = [&](const std::string& value) -> Result<uint64_t> {
    if (value == "unlimited") return static_cast<uint64_t>(RLIM_INFINITY);
    return parse_number("--rlimit " + name, value);
  };
  uint64_t soft = PODRT_TRY(limit(values[0]));
  uint64_t hard = values.size() == 2 ? PODRT_TRY(limit(values[1])) : soft;
  if (soft > hard) return Error::invalid("--rlimit " + name + ": soft limit above hard limit");
  return std::pair{name, nlohmann::json{{"soft", soft}, {"hard", hard}}};
}

}  // namespace podrt::cli
