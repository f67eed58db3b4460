// Host probes: each reads files under HostPaths and never fails; unreadable means absent.
#include "stage0/host/host_report.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "common/guest_kernel_path.h"
#include "common/sys/file.h"
#include "common/unique_fd.h"
#include "stage0/host/hypervisor_choice.h"

extern char** environ;

namespace podrt::host {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t position = 0;
  while (position < text.size()) {
    size_t begin = text.find_first_not_of(" \t\r\n", position);
    if (begin == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\r\n", begin);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(begin, end - begin));
    position = end;
  }
  return words;
}

template <class Function>
void for_each_line(std::string_view text, Function&& function) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    function(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

std::optional<long> parse_long(std::string_view text) {
  text = trim(text);
  long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string> read_optional(const std::string& path) {
  Result<std::string> content = sys::read_file(path);
  if (!content) return std::nullopt;
  return std::move(*content);
}

bool is_directory(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode);
}

bool is_executable_file(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

bool is_cgroup2(const std::string& path) {
  struct statfs status {};
  return ::statfs(path.c_str(), &status) == 0 &&
         static_cast<unsigned long>(status.f_type) == CGROUP2_SUPER_MAGIC;
}

bool cpu_has_virtualization(std::string_view cpuinfo) {
  bool found = false;
  for_each_line(cpuinfo, [&found](std::string_view line) {
    if (found || !line.starts_with("flags")) return;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    for (std::string_view flag : split_words(line.substr(colon + 1))) {
      if (flag == "vmx" || flag == "svm") found = true;
    }
  });
  return found;
}

// Runs `program --version` and returns the first line of its stdout.
std::optional<std::string> first_line_of_version(const std::string& program) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);

  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) return std::nullopt;
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string argument0 = program;
  std::string argument1 = "--version";
  char* argv[] = {argument0.data(), argument1.data(), nullptr};
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (spawned != 0) return std::nullopt;

  std::string output;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
    if (output.size() > 65536) break;
  }
  read_end.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string_view line = trim(std::string_view(output).substr(0, output.find('\n')));
  if (line.empty()) return std::nullopt;
  return std::string(line);
}

}  // namespace

HostPaths HostPaths::from_environment() {
  HostPaths paths;
  if (const char* path = std::getenv("PATH")) paths.search_path = path;
  if (const char* cni_path = std::getenv("CNI_PATH")) paths.cni_path = cni_path;
  return paths;
}

KvmReport classify_kvm(std::string_view cpuinfo, DevKvm dev_kvm, bool kvm_pvm_loaded) {
  bool virtualization = cpu_has_virtualization(cpuinfo);
  switch (dev_kvm) {
    case DevKvm::Missing:
      if (virtualization) {
        return {KvmKind::None,
                "no /dev/kvm although the CPU has vmx/svm: load kvm_intel or kvm_amd; "
                "stage1-kvm will use QEMU/TCG"};
      }
      return {KvmKind::None,
              "no /dev/kvm and no vmx/svm CPU flag; stage1-kvm will use QEMU/TCG"};
    case DevKvm::NotOpenable:
      return {KvmKind::Unusable,
              "/dev/kvm exists but cannot be opened: run as root or join the kvm group; "
              "stage1-kvm will use QEMU/TCG"};
    case DevKvm::Openable:
      break;
  }
  if (kvm_pvm_loaded) {
    return {KvmKind::NestedPvm,
            "/dev/kvm from a nested PVM hypervisor: Linux guests cannot boot; "
            "stage1-kvm will use QEMU/TCG"};
  }
  if (virtualization) return {KvmKind::Hardware, "vmx/svm and a usable /dev/kvm"};
  return {KvmKind::Unusable,
          "/dev/kvm without vmx/svm or kvm_pvm: unknown provider; stage1-kvm will use QEMU/TCG"};
}

CgroupMounts parse_cgroup_mounts(std::string_view proc_mounts) {
  CgroupMounts mounts;
  for_each_line(proc_mounts, [&mounts](std::string_view line) {
    std::vector<std::string_view> fields = split_words(line);
    if (fields.size() < 3) return;
    std::string_view target = fields[1];
    std::string_view type = fields[2];
    if (type == "cgroup2" && target == "/sys/fs/cgroup") mounts.root_is_cgroup2 = true;
    if (type == "cgroup2" && target == "/sys/fs/cgroup/unified") mounts.unified_is_cgroup2 = true;
    if (type == "cgroup") mounts.v1_mounted = true;
  });
  return mounts;
}

CgroupMode classify_cgroups(const CgroupMounts& mounts) {
  if (mounts.root_is_cgroup2) return CgroupMode::V2;
  if (mounts.v1_mounted) return mounts.unified_is_cgroup2 ? CgroupMode::Hybrid : CgroupMode::V1;
  return CgroupMode::None;
}

std::vector<std::string> parse_proc_cgroups(std::string_view proc_cgroups) {
  std::vector<std::string> controllers;
  for_each_line(proc_cgroups, [&controllers](std::string_view line) {
    if (line.starts_with("#")) return;
    // subsys_name hierarchy num_cgroups enabled
    std::vector<std::string_view> fields = split_words(line);
    if (fields.size() < 4 || fields[3] != "1") return;
    controllers.emplace_back(fields[0]);
  });
  return controllers;
}

std::vector<std::string> parse_cgroup_controllers(std::string_view text) {
  std::vector<std::string> controllers;
  for (std::string_view word : split_words(text)) controllers.emplace_back(word);
  return controllers;
}

bool filesystems_list_overlay(std::string_view proc_filesystems) {
  bool found = false;
  for_each_line(proc_filesystems, [&found](std::string_view line) {
    std::vector<std::string_view> fields = split_words(line);
    if (!fields.empty() && fields.back() == "overlay") found = true;
  });
  return found;
}

KvmReport probe_kvm(const HostPaths& paths) {
  std::string cpuinfo = read_optional(paths.proc + "/cpuinfo").value_or("");
  std::string dev_kvm_path = paths.dev + "/kvm";
  DevKvm dev_kvm = DevKvm::Missing;
  if (sys::path_exists(dev_kvm_path)) {
    // Opening is the check KVM users make; an ordinary file stands in for it in tests.
    dev_kvm = sys::open_file(dev_kvm_path, O_RDWR) ? DevKvm::Openable : DevKvm::NotOpenable;
  }
  bool kvm_pvm_loaded = is_directory(paths.sys + "/module/kvm_pvm");
  return classify_kvm(cpuinfo, dev_kvm, kvm_pvm_loaded);
}

CgroupReport probe_cgroups(const HostPaths& paths) {
  std::string cgroup_root = paths.sys + "/fs/cgroup";
  CgroupMounts mounts =
      parse_cgroup_mounts(read_optional(paths.proc + "/self/mounts").value_or(""));
  // statfs is the authority on the real host; the mount table covers fake trees too.
  mounts.root_is_cgroup2 = mounts.root_is_cgroup2 || is_cgroup2(cgroup_root);
  mounts.unified_is_cgroup2 = mounts.unified_is_cgroup2 || is_cgroup2(cgroup_root + "/unified");

  CgroupReport report;
  report.mode = classify_cgroups(mounts);
  switch (report.mode) {
    case CgroupMode::V2:
      report.controllers = parse_cgroup_controllers(
          read_optional(cgroup_root + "/cgroup.controllers").value_or(""));
      break;
    case CgroupMode::Hybrid:
    case CgroupMode::V1:
      report.controllers =
          parse_proc_cgroups(read_optional(paths.proc + "/cgroups").value_or(""));
      break;
    case CgroupMode::None:
      break;
  }
  if (report.mode == CgroupMode::Hybrid) {
    // A controller bound to the unified hierarchy is not usable through v1: list it there only.
    report.unified_controllers = parse_cgroup_controllers(
        read_optional(cgroup_root + "/unified/cgroup.controllers").value_or(""));
    std::erase_if(report.controllers, [&report](const std::string& name) {
      return std::find(report.unified_controllers.begin(), report.unified_controllers.end(),
                       name) != report.unified_controllers.end();
    });
  }
  return report;
}

bool probe_overlayfs(const HostPaths& paths) {
  return filesystems_list_overlay(read_optional(paths.proc + "/filesystems").value_or("")) ||
         is_directory(paths.sys + "/module/overlay");
}

UserNamespaceReport probe_user_namespaces(const HostPaths& paths) {
  UserNamespaceReport report;
  if (auto text = read_optional(paths.proc + "/sys/user/max_user_namespaces")) {
    report.max_user_namespaces = parse_long(*text);
  }
  if (auto text = read_optional(paths.proc + "/sys/kernel/unprivileged_userns_clone")) {
    report.unprivileged_userns_clone = parse_long(*text);
  }
  report.available = report.max_user_namespaces.value_or(0) > 0;
  return report;
}

SeccompReport probe_seccomp(const HostPaths& paths) {
  SeccompReport report;
  std::string status = read_optional(paths.proc + "/self/status").value_or("");
  for_each_line(status, [&report](std::string_view line) {
    constexpr std::string_view kKey = "Seccomp:";
    if (!line.starts_with(kKey)) return;
    report.available = true;
    if (auto mode = parse_long(line.substr(kKey.size()))) report.mode = static_cast<int>(*mode);
  });
  return report;
}

QemuReport probe_qemu(const HostPaths& paths) {
  QemuReport report;
  std::string_view search = paths.search_path;
  while (!report.path) {
    size_t colon = search.find(':');
    std::string directory(search.substr(0, colon));
    if (directory.empty()) directory = ".";
    std::string candidate = directory + "/qemu-system-x86_64";
    if (!paths.search_path.empty() && is_executable_file(candidate)) report.path = candidate;
    if (colon == std::string_view::npos) break;
    search.remove_prefix(colon + 1);
  }
  if (report.path) report.version = first_line_of_version(*report.path);
  return report;
}

CniReport probe_cni(const HostPaths& paths) {
  std::vector<std::string> candidates;
  std::string_view cni_path = paths.cni_path;
  while (!cni_path.empty()) {
    size_t colon = cni_path.find(':');
    if (colon != 0) candidates.emplace_back(cni_path.substr(0, colon));
    if (colon == std::string_view::npos) break;
    cni_path.remove_prefix(colon + 1);
  }
  candidates.insert(candidates.end(), paths.cni_dirs.begin(), paths.cni_dirs.end());

  CniReport report;
  for (const std::string& directory : candidates) {
    if (is_directory(directory)) {
      report.plugin_dir = directory;
      break;
    }
  }
  for (std::string_view plugin : kCniPlugins) {
    bool present = report.plugin_dir &&
                   is_executable_file(*report.plugin_dir + "/" + std::string(plugin));
    (present ? report.present : report.missing).emplace_back(plugin);
  }
  return report;
}

HostReport probe_host(const HostPaths& paths, const std::string& data_dir) {
  HostReport report;
  report.kvm = probe_kvm(paths);
  report.cgroup = probe_cgroups(paths);
  report.overlayfs = probe_overlayfs(paths);
  report.user_namespaces = probe_user_namespaces(paths);
  report.seccomp = probe_seccomp(paths);
  report.qemu = probe_qemu(paths);
  report.kvm_pods.guest_kernel = guest_kernel_path();
  report.kvm_pods.guest_kernel_built = ::access(report.kvm_pods.guest_kernel.c_str(), R_OK) == 0;
  auto choice = choose_hypervisor("auto", report.kvm, report.qemu.path.has_value());
  report.kvm_pods.hypervisor = choice ? choice->reason : choice.error().message();
  report.cni = probe_cni(paths);
  report.data_dir = data_dir;
  report.data_dir_exists = is_directory(data_dir);
  return report;
}

}  // namespace podrt::host
