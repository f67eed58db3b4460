// Finding the cgroup hierarchies from /proc/self/mountinfo and /proc/self/cgroup.
#include <algorithm>
#include <charconv>
#include <optional>

#include "common/cgroups/cgroup.h"
#include "common/sys/file.h"

namespace podrt::cgroups {

namespace {

struct CgroupMount {
  std::string root;         // field 4: the cgroup the mount shows as its top
  std::string mount_point;  // field 5
  bool unified = false;
  std::vector<std::string> options;  // super options, e.g. rw,cpu,cpuacct
};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() &&
        std::all_of(text.begin() + static_cast<long>(i) + 1,
                    text.begin() + static_cast<long>(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Result<std::vector<CgroupMount>> parse_mountinfo(std::string_view text) {
  std::vector<CgroupMount> mounts;
  size_t number = 0;
  for (std::string_view line : split(text, '\n')) {
    ++number;
    if (line.empty()) continue;
    std::vector<std::string_view> fields = split(line, ' ');
    auto separator = std::find(fields.begin(), fields.end(), "-");
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    if (separator - fields.begin() < 6 || fields.end() - separator != 4)
      return Error::invalid("parse mountinfo line " + std::to_string(number) +
                            ": not \"ID PARENT DEV ROOT MOUNT_POINT OPTIONS ... - TYPE SOURCE "
                            "SUPER_OPTIONS\": " + std::string(line.substr(0, 200)));
    std::string_view type = separator[1];
    if (type != "cgroup" && type != "cgroup2") continue;
    // Only a cgroup mount's root is a path (an nsfs mount's is "net:[4026532248]").
    if (fields[3].empty() || fields[3][0] != '/' || fields[4].empty() || fields[4][0] != '/')
      return Error::invalid("parse mountinfo line " + std::to_string(number) +
                            ": cgroup mount with a root or mount point that is not a path: " +
                            std::string(line.substr(0, 200)));
    CgroupMount mount;
    mount.root = unescape(fields[3]);
    mount.mount_point = unescape(fields[4]);
    mount.unified = type == "cgroup2";
    for (std::string_view option : split(separator[3], ',')) mount.options.emplace_back(option);
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

struct Membership {
  bool unified = false;                  // the "0::" line
  std::vector<std::string> controllers;  // v1 only
  std::string path;
};

Result<std::vector<Membership>> parse_proc_cgroup(std::string_view text) {
  std::vector<Membership> memberships;
  size_t number = 0;
  for (std::string_view line : split(text, '\n')) {
    ++number;
    if (line.empty()) continue;
    // ID:CONTROLLERS:PATH; the path may itself contain colons.
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    unsigned id = 0;
    bool id_ok = first != std::string_view::npos && first > 0 &&
                 std::from_chars(line.data(), line.data() + first, id).ptr == line.data() + first;
    if (!id_ok || second == std::string_view::npos || second + 1 >= line.size() ||
        line[second + 1] != '/')
      return Error::invalid("parse /proc/self/cgroup line " + std::to_string(number) +
                            ": not \"ID:CONTROLLERS:/PATH\": " + std::string(line.substr(0, 200)));
    Membership membership;
    membership.unified = id == 0;
    membership.path = std::string(line.substr(second + 1));
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    if (!membership.unified) {
      if (controllers.empty())
        return Error::invalid("parse /proc/self/cgroup line " + std::to_string(number) +
                              ": hierarchy " + std::to_string(id) + " names no controller");
      for (std::string_view controller : split(controllers, ','))
        membership.controllers.emplace_back(controller);
    }
    memberships.push_back(std::move(membership));
  }
  return memberships;
}

// The cgroup `path` as seen below a mount whose root is `root`, or nothing when the mount
// does not show it (a bind mount of another subtree, a cgroup namespace's outside).
std::optional<std::string> below_root(const std::string& path, const std::string& root) {
  if (root == "/") return path;
  if (path == root) return std::string("/");
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/')
    return path.substr(root.size());
  return std::nullopt;
}

std::string describe(const Membership& membership) {
  if (membership.unified) return "the unified hierarchy";
  std::string names;
  for (const std::string& controller : membership.controllers)
    names += (names.empty() ? "" : ",") + controller;
  return "hierarchy " + names;
}

}  // namespace

std::string_view to_string(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::V1: return "v1";
    case CgroupMode::Hybrid: return "hybrid";
    case CgroupMode::V2: return "v2";
    case CgroupMode::None: break;
  }
  return "none";
}

bool Hierarchy::has_controller(std::string_view name) const {
  return std::find(controllers.begin(), controllers.end(), name) != controllers.end();
}

Result<Hierarchies> Hierarchies::parse(std::string_view mountinfo,
                                       std::string_view proc_self_cgroup) {
  std::vector<CgroupMount> mounts = PODRT_TRY(parse_mountinfo(mountinfo));
  std::vector<Membership> memberships = PODRT_TRY(parse_proc_cgroup(proc_self_cgroup));

  Hierarchies result;
  bool v1_controllers = false;
  bool unified = false;
  for (const Membership& membership : memberships) {
    const CgroupMount* chosen = nullptr;
    const CgroupMount* hidden = nullptr;
    std::string own_path;
    for (const CgroupMount& mount : mounts) {
      if (mount.unified != membership.unified) continue;
      // A v1 mount's super options name its controllers among flags like rw or xattr.
      bool matches = std::all_of(
          membership.controllers.begin(), membership.controllers.end(), [&](const auto& name) {
            return std::find(mount.options.begin(), mount.options.end(), name) !=
                   mount.options.end();
          });
      if (!matches) continue;
      // The same hierarchy may be mounted more than once; take the first that shows us.
      if (auto path = below_root(membership.path, mount.root)) {
        chosen = &mount;
        own_path = std::move(*path);
        break;
      }
      if (hidden == nullptr) hidden = &mount;
    }
    if (chosen == nullptr && hidden != nullptr)
      return Error::invalid("find own cgroup in " + describe(membership) + ": " +
                            membership.path + " is not below " + hidden->root + ", the root of " +
                            "its mount at " + hidden->mount_point);
    if (chosen == nullptr) continue;  // not mounted in this mount namespace
    Hierarchy hierarchy;
    hierarchy.mount_point = chosen->mount_point;
    hierarchy.controllers = membership.controllers;
    hierarchy.unified = membership.unified;
    hierarchy.own_path = std::move(own_path);
    if (hierarchy.unified) {
      unified = true;
    } else if (std::any_of(hierarchy.controllers.begin(), hierarchy.controllers.end(),
                           [](const std::string& name) { return name.rfind("name=", 0) != 0; })) {
      v1_controllers = true;
    }
    result.hierarchies.push_back(std::move(hierarchy));
  }
  // A v1 hierarchy with only a name (name=systemd) holds no controller: the host is v2 if the
  // unified hierarchy is the only one with controllers.
  if (v1_controllers && unified) {
    result.mode = CgroupMode::Hybrid;
  } else if (v1_controllers) {
    result.mode = CgroupMode::V1;
  } else if (unified) {
    result.mode = CgroupMode::V2;
  }
  return result;
}

Result<Hierarchies> Hierarchies::detect() {
  std::string mountinfo = PODRT_TRY_CONTEXT(sys::read_file("/proc/self/mountinfo"),
                                            "detect cgroup hierarchies");
  std::string cgroup = PODRT_TRY_CONTEXT(sys::read_file("/proc/self/cgroup"),
                                         "detect cgroup hierarchies");
  return parse(mountinfo, cgroup);
}

std::vector<Hierarchy> Hierarchies::for_pods() const {
  std::vector<Hierarchy> used;
  for (const Hierarchy& hierarchy : hierarchies) {
    if (hierarchy.unified) {
      // On hybrid hosts the unified hierarchy only groups the pod's processes.
      if (mode == CgroupMode::V2 || mode == CgroupMode::Hybrid) used.push_back(hierarchy);
      continue;
    }
    if (mode == CgroupMode::V2) continue;
    for (std::string_view name : {"memory", "cpu", "cpuacct", "pids", "name=systemd"}) {
      if (hierarchy.has_controller(name)) {
        used.push_back(hierarchy);
        break;
      }
    }
  }
  return used;
}

}  // namespace podrt::cgroups
