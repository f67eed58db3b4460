// Creating pod and app cgroups and moving processes into them.
#include "common/cgroups/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/cgroups/control_file.h"
#include "common/sys/file.h"

namespace podrt::cgroups {

namespace {

// The v2 controllers that CgroupLimits needs.
constexpr std::string_view kPodControllers[] = {"memory", "cpu", "pids"};

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// The pod controllers that `directory` could hand to its children but does not yet.
Result<std::vector<std::string>> controllers_to_enable(const std::string& directory) {
  std::vector<std::string> available =
      split_words(PODRT_TRY(read_control(directory, "cgroup.controllers")));
  std::vector<std::string> enabled =
      split_words(PODRT_TRY(read_control(directory, "cgroup.subtree_control")));
  std::vector<std::string> missing;
  for (std::string_view name : kPodControllers)
    if (contains(available, name) && !contains(enabled, name)) missing.emplace_back(name);
  return missing;
}

// Lets the children of the cgroup2 `directory` use the pod controllers it has.
Result<void> enable_controllers(const std::string& directory) {
  std::vector<std::string> missing = PODRT_TRY(controllers_to_enable(directory));
  if (missing.empty()) return ok();
  std::string value;
  for (const std::string& name : missing) value += (value.empty() ? "+" : " +") + name;
  auto written = write_control(directory, "cgroup.subtree_control", value);
  if (!written && written.error().code() == EBUSY)
    return Error::with_code(EBUSY, "enable " + value + " in " + directory +
                                       "/cgroup.subtree_control: it holds processes, and cgroup "
                                       "v2 gives controllers only to children of cgroups without");
  return written;
}

Result<bool> has_processes(const std::string& directory) {
  std::string procs = PODRT_TRY(read_control(directory, "cgroup.procs"));
  return !split_words(procs).empty();
}

std::string parent_of(const std::string& directory) {
  return directory.substr(0, directory.rfind('/'));
}

// Where the pod cgroup goes in a pure v2 hierarchy. The "no internal processes" rule lets a
// cgroup other than the root hand controllers to children only while it holds no process, and
// the caller's own cgroup holds at least the caller. So, as systemd-less runtimes must, unless
// the caller's cgroup is the root or already delegates the controllers, the pod cgroup is put
// beside it, in its parent (which, if it delegates anything to the caller's cgroup, holds no
// process). If the parent cannot delegate either, create() fails saying so.
Result<std::string> v2_base(const Hierarchy& hierarchy) {
  std::string own = hierarchy.mount_point + (hierarchy.own_path == "/" ? "" : hierarchy.own_path);
  if (hierarchy.own_path == "/") return own;
  if (PODRT_TRY(controllers_to_enable(own)).empty()) return own;
  if (!PODRT_TRY(has_processes(own))) return own;
  return parent_of(own);
}

Result<void> make_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return Error::from_errno("create cgroup " + path);
  return ok();
}

Result<void> check_relative(std::string_view relative) {
  if (relative.empty() || relative.front() == '/' || relative.back() == '/')
    return Error::invalid("cgroup name \"" + std::string(relative) +
                          "\" is not a relative path like podrt/<uuid>");
  size_t start = 0;
  for (;;) {
    size_t end = relative.find('/', start);
    std::string_view part = relative.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return Error::invalid("cgroup name \"" + std::string(relative) +
                            "\" has an empty, . or .. component");
    if (end == std::string_view::npos) return ok();
    start = end + 1;
  }
}

Result<std::string> create_in(const Hierarchies& hierarchies, const Hierarchy& hierarchy,
                              std::string_view relative) {
  if (!hierarchy.unified || hierarchies.mode != CgroupMode::V2) {
    std::string own = hierarchy.own_path == "/" ? "" : hierarchy.own_path;
    std::string directory = hierarchy.mount_point + own + "/" + std::string(relative);
    PODRT_TRY(sys::make_directories(directory));
    return directory;
  }
  // v2: each level down to the pod's parent hands the controllers on before the next is made.
  std::string directory = PODRT_TRY(v2_base(hierarchy));
  size_t start = 0;
  for (;;) {
    PODRT_TRY(enable_controllers(directory));
    size_t end = relative.find('/', start);
    directory += "/" + std::string(relative.substr(start, end - start));
    PODRT_TRY(make_directory(directory));
    if (end == std::string_view::npos) return directory;
    start = end + 1;
  }
}

}  // namespace

Result<Cgroup> Cgroup::create(const Hierarchies& hierarchies, std::string_view relative) {
  std::string what = "create cgroup " + std::string(relative);
  PODRT_TRY_CONTEXT(check_relative(relative), what);
  std::vector<Hierarchy> used = hierarchies.for_pods();
  if (used.empty()) return Error::invalid(what + ": no cgroup hierarchy is mounted");
  std::vector<std::string> directories;
  for (const Hierarchy& hierarchy : used) {
    auto directory = create_in(hierarchies, hierarchy, relative);
    if (!directory) {
      // Leave no half-made pod cgroup behind (best effort: the error is the first failure).
      for (const std::string& made : directories) ::rmdir(made.c_str());
      return std::move(directory).error().with_context(what);
    }
    directories.push_back(std::move(*directory));
  }
  return Cgroup(std::move(directories));
}

Cgroup Cgroup::adopt(std::vector<std::string> directories) { return Cgroup(std::move(directories)); }

Result<Cgroup> Cgroup::create_child(std::string_view name) const {
  std::string what = "create child cgroup " + std::string(name);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos)
    return Error::invalid(what + ": not a plain name");
  std::vector<std::string> children;
  for (const std::string& directory : directories_) {
    std::string child = directory + "/" + std::string(name);
    Result<void> made = ok();
    // On v2 (not hybrid: there the unified hierarchy has no pod controller to hand on) the
    // child gets the controllers only if this cgroup delegates them.
    if (is_unified_directory(directory)) made = enable_controllers(directory);
    if (made) made = make_directory(child);
    if (!made) {
      for (const std::string& done : children) ::rmdir(done.c_str());
      return std::move(made).error().with_context(what);
    }
    children.push_back(std::move(child));
  }
  return Cgroup(std::move(children));
}

Result<void> Cgroup::add_process(pid_t pid) const {
  std::string value = std::to_string(pid);
  for (const std::string& directory : directories_)
    PODRT_TRY_CONTEXT(write_control(directory, "cgroup.procs", value),
                      "add process " + value + " to cgroup");
  return ok();
}

std::vector<std::string> Cgroup::procs_files() const {
  std::vector<std::string> files;
  for (const std::string& directory : directories_) files.push_back(directory + "/cgroup.procs");
  return files;
}

}  // namespace podrt::cgroups
