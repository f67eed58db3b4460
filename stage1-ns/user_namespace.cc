#include "stage1-ns/user_namespace.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "common/sys/file.h"
#include "common/sys/file_lock.h"

namespace podrt::stage1 {
namespace {

// Ranges are 65536-aligned slots from 0x10000000 up to 0x70000000: far above the ids of real
// users and of /etc/subuid ranges handed out by useradd (100000..), and below 2^31, which some
// tools still take for a negative id.
constexpr uint32_t kFirstBase = 0x10000000;
constexpr uint32_t kSlotSize = 65536;
constexpr uint32_t kSlots = (0x70000000 - kFirstBase) / kSlotSize;

/// "BASE:COUNT", as written in a pod dir.
std::optional<IdShift> parse_shift(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  IdShift shift;
  auto [base_end, base_error] = std::from_chars(text.data(), text.data() + colon, shift.base);
  auto [count_end, count_error] =
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), shift.count);
  if (base_error != std::errc() || count_error != std::errc() ||
      base_end != text.data() + colon || count_end != text.data() + text.size())
    return std::nullopt;
  return shift;
}

/// The bases recorded by every pod in the data dir, whatever its state.
std::set<uint32_t> bases_in_use(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::set<uint32_t> used;
  std::error_code ec;
  for (const auto& state : fs::directory_iterator(data_dir + "/pods", ec)) {
    std::error_code inner;
    for (const auto& pod : fs::directory_iterator(state.path(), inner)) {
      auto text = sys::read_file(pod.path().string() + "/" + kPrivateUsersFile);
      if (!text) continue;
      if (auto shift = parse_shift(*text)) used.insert(shift->base);
    }
  }
  return used;
}

/// FNV-1a: any stable spreading of uuids over the slots will do.
uint32_t first_slot(const std::string& uuid) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : uuid) hash = (hash ^ c) * 1099511628211ull;
  return static_cast<uint32_t>(hash % kSlots);
}

Result<void> write_map(pid_t pid, const char* file, const IdShift& shift) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  std::string map = "0 " + std::to_string(shift.base) + " " + std::to_string(shift.count) + "\n";
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_WRONLY));
  // A map must be written in one write(2).
  if (::write(fd.get(), map.data(), map.size()) != static_cast<ssize_t>(map.size()))
    return Error::from_errno("write " + path + " (" + map.substr(0, map.size() - 1) + ")");
  return ok();
}

}  // namespace

Result<IdShift> allocate_id_shift(const std::string& data_dir, const std::string& pod_dir,
                                  const std::string& uuid) {
  std::string record = pod_dir + "/" + kPrivateUsersFile;
  sys::FileLock lock = PODRT_TRY(sys::FileLock::open(data_dir + "/private-users.lock", true));
  PODRT_TRY(lock.lock(sys::FileLock::Mode::Exclusive, sys::FileLock::Wait::Block));
  std::set<uint32_t> used = bases_in_use(data_dir);
  uint32_t slot = first_slot(uuid);
  for (uint32_t tried = 0; tried < kSlots; ++tried, slot = (slot + 1) % kSlots) {
    IdShift shift{kFirstBase + slot * kSlotSize, kSlotSize};
    if (used.count(shift.base)) continue;
    PODRT_TRY(sys::write_file_atomic(
        record, std::to_string(shift.base) + ":" + std::to_string(shift.count) + "\n"));
    return shift;
  }
  return Error::invalid("--private-users: every id range is taken by a pod (gc some)");
}

Result<UserNamespace> UserNamespace::create(const IdShift& shift) {
  int hold[2];
  if (::pipe2(hold, O_CLOEXEC) != 0) return Error::from_errno("make a pipe for the user namespace");
  UniqueFd hold_read(hold[0]), hold_write(hold[1]);
  // The process only has to exist while its maps are written and its namespace opened: it
  // waits for the pipe to close, and dies with us if we die first.
  long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) return Error::from_errno("clone a user namespace");
  if (pid == 0) {
    hold_write.reset();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char byte;
    while (::read(hold_read.get(), &byte, 1) < 0 && errno == EINTR) {}
    ::_exit(0);
  }
  hold_read.reset();
  auto reap = [pid] {
    int status;
    while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {}
  };
  auto made = [&]() -> Result<UniqueFd> {
    PODRT_TRY(write_map(static_cast<pid_t>(pid), "uid_map", shift));
    PODRT_TRY(write_map(static_cast<pid_t>(pid), "gid_map", shift));
    return sys::open_file("/proc/" + std::to_string(pid) + "/ns/user", O_RDONLY);
  }();
  hold_write.reset();
  reap();
  if (!made) return std::move(made).error().with_context("--private-users");
  return UserNamespace(std::move(*made), shift);
}

Result<void> join_as_root(int userns_fd) {
  if (::setns(userns_fd, CLONE_NEWUSER) != 0) return Error::from_errno("join the pod's user namespace");
  // Host root is not mapped in the namespace: become its root, host id BASE. Groups first,
  // while we may still change them.
  if (::setgroups(0, nullptr) != 0) return Error::from_errno("drop supplementary groups in the user namespace");
  if (::setresgid(0, 0, 0) != 0) return Error::from_errno("become gid 0 in the user namespace");
  if (::setresuid(0, 0, 0) != 0) return Error::from_errno("become uid 0 in the user namespace");
  return ok();
}

Result<void> open_network_to_pod_ids(const IdShift& shift) {
  const std::pair<const char*, std::string> settings[] = {
      {"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"},
      // Host gids, as read in the writer's user namespace.
      {"/proc/sys/net/ipv4/ping_group_range",
       std::to_string(shift.base) + " " + std::to_string(shift.base + shift.count - 1)}};
  for (const auto& [path, value] : settings) {
    UniqueFd fd = PODRT_TRY(sys::open_file(path, O_WRONLY));
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
      return Error::from_errno("set " + std::string(path) + " to " + value);
  }
  return ok();
}

Result<void> give_to_pod_root(const std::string& path, const IdShift& shift) {
  if (::lchown(path.c_str(), shift.base, shift.base) != 0)
    return Error::from_errno("give " + path + " to the pod's root (" + std::to_string(shift.base) + ")");
  return ok();
}

}  // namespace podrt::stage1
