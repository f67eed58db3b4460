#include "stage0/pods/pod_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>

#include "common/log.h"
#include "common/sys/file.h"
#include "stage0/pods/pod_files.h"
#include "stage0/pods/uuid.h"

namespace podrt::pods {
namespace {

namespace fs = std::filesystem;
using sys::FileLock;

int64_t now_seconds() { return static_cast<int64_t>(::time(nullptr)); }

std::string pod_path(const std::string& pods_dir, std::string_view state_dir,
                     const std::string& uuid) {
  return pods_dir + "/" + std::string(state_dir) + "/" + uuid;
}

/// True when someone (stage1, prepare, a deleting gc) holds the pod's lock.
Result<bool> is_locked(const std::string& path) {
  FileLock lock = PODRT_TRY(FileLock::open(path));
  auto taken = lock.lock(FileLock::Mode::Shared, FileLock::Wait::NonBlocking);
  if (taken) return false;
  if (taken.error().code() == EWOULDBLOCK) return true;
  return std::move(taken).error();
}

std::optional<int64_t> mtime_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_mtim.tv_sec);
}

}  // namespace

PreparingPod::PreparingPod(std::string pods_dir, std::string uuid, FileLock lock)
    : pods_dir_(std::move(pods_dir)),
      uuid_(std::move(uuid)),
      path_(pod_path(pods_dir_, "prepare", uuid_)),
      lock_(std::move(lock)) {}

PreparingPod::PreparingPod(PreparingPod&& other) noexcept
    : pods_dir_(std::move(other.pods_dir_)),
      uuid_(std::move(other.uuid_)),
      path_(std::move(other.path_)),
      lock_(std::move(other.lock_)),
      committed_(other.committed_) {
  other.committed_ = true;  // the moved-from object must not throw the pod away
}

Result<void> PreparingPod::commit() {
  std::string prepared = pod_path(pods_dir_, "prepared", uuid_);
  if (::rename(path_.c_str(), prepared.c_str()) != 0)
    return Error::from_errno("rename " + path_ + " to " + prepared);
  committed_ = true;
  path_ = prepared;
  lock_.reset();
  return ok();
}

PreparingPod::~PreparingPod() {
  if (committed_) return;
  // Still locked by us: nobody else can be looking. Out of prepare first, then delete, so an
  // interruption leaves a pod gc recognises as garbage.
  std::string garbage = pod_path(pods_dir_, "garbage", uuid_);
  if (::rename(path_.c_str(), garbage.c_str()) == 0) (void)sys::remove_tree(garbage);
}

Result<PodStore> PodStore::open(const std::string& data_dir) {
  std::string pods_dir = data_dir + "/pods";
  for (std::string_view state : kStateDirectories)
    PODRT_TRY_CONTEXT(sys::make_directories(pods_dir + "/" + std::string(state), 0700),
                      "open pod store");
  return PodStore(std::move(pods_dir));
}

Result<PreparingPod> PodStore::begin_prepare() const {
  std::string uuid = PODRT_TRY(new_uuid());
  std::string embryo = pod_path(pods_dir_, "embryo", uuid);
  if (::mkdir(embryo.c_str(), 0700) != 0) return Error::from_errno("create pod " + embryo);
  PODRT_TRY(sys::write_file_atomic(embryo + "/" + std::string(kCreatedFile), "", 0644, sys::Sync::No));
  FileLock lock = PODRT_TRY(FileLock::open(embryo));
  PODRT_TRY(lock.lock(FileLock::Mode::Exclusive, FileLock::Wait::NonBlocking));
  std::string prepare = pod_path(pods_dir_, "prepare", uuid);
  if (::rename(embryo.c_str(), prepare.c_str()) != 0) {
    Error error = Error::from_errno("rename " + embryo + " to " + prepare);
    (void)sys::remove_tree(embryo);
    return error;
  }
  return PreparingPod(pods_dir_, uuid, std::move(lock));
}

Result<FileLock> PodStore::begin_run(const std::string& uuid) const {
  std::string prepared = pod_path(pods_dir_, "prepared", uuid);
  FileLock lock = PODRT_TRY(FileLock::open(prepared));
  auto taken = lock.lock(FileLock::Mode::Exclusive, FileLock::Wait::NonBlocking);
  if (!taken) {
    if (taken.error().code() == EWOULDBLOCK)
      return Error::invalid("pod " + uuid + " is being started by someone else");
    return std::move(taken).error();
  }
  // The rename decides races between two run-prepared: the loser finds no pod.
  if (!PODRT_TRY(move(uuid, "prepared", "run")))
    return Error::invalid("pod " + uuid + " is no longer prepared");
  PODRT_TRY(sys::write_file_atomic(pod_path(pods_dir_, "run", uuid) + "/" +
                                       std::string(kStartedFile), "", 0644, sys::Sync::No));
  return lock;
}

Result<PodInfo> PodStore::inspect(std::string_view state_dir, const std::string& uuid) const {
  PodInfo info;
  info.uuid = uuid;
  info.path = pod_path(pods_dir_, state_dir, uuid);
  if (state_dir == "embryo") {
    info.state = PodState::Embryo;
  } else if (state_dir == "prepare") {
    info.state = PODRT_TRY(is_locked(info.path)) ? PodState::Preparing : PodState::AbortedPrepare;
  } else if (state_dir == "prepared") {
    info.state = PodState::Prepared;
  } else if (state_dir == "run") {
    info.state = PODRT_TRY(is_locked(info.path)) ? PodState::Running : PodState::Exited;
  } else if (state_dir == "exited-garbage") {
    info.state = PodState::ExitedGarbage;
  } else {
    info.state = PodState::Garbage;
  }
  info.created = mtime_of(info.path + "/" + std::string(kCreatedFile)).value_or(0);
  info.started = mtime_of(info.path + "/" + std::string(kStartedFile));
  return info;
}

Result<std::vector<PodInfo>> PodStore::list() const {
  std::vector<PodInfo> pods;
  for (std::string_view state : kStateDirectories) {
    std::error_code ec;
    std::vector<std::string> uuids;
    for (const auto& entry : fs::directory_iterator(pods_dir_ + "/" + std::string(state), ec))
      if (is_uuid(entry.path().filename().string())) uuids.push_back(entry.path().filename());
    if (ec) return Error::with_code(ec.value(), "list pods in " + std::string(state));
    std::sort(uuids.begin(), uuids.end());
    for (const std::string& uuid : uuids) {
      auto info = inspect(state, uuid);
      // A pod that moved on between listing and inspecting is seen in its next directory.
      if (!info) {
        if (info.error().code() == ENOENT) continue;
        return std::move(info).error();
      }
      pods.push_back(std::move(*info));
    }
  }
  return pods;
}

Result<PodInfo> PodStore::find(const std::string& uuid_prefix) const {
  if (!is_uuid_prefix(uuid_prefix)) return Error::invalid("bad pod UUID \"" + uuid_prefix + "\"");
  std::vector<PodInfo> pods = PODRT_TRY(list());
  std::optional<PodInfo> match;
  for (PodInfo& pod : pods) {
    if (pod.uuid.rfind(uuid_prefix, 0) != 0) continue;
    if (match && match->uuid != pod.uuid)
      return Error::invalid("pod UUID " + uuid_prefix + " is ambiguous: give more characters");
    match = std::move(pod);
  }
  if (!match) return Error::invalid("no pod with UUID " + uuid_prefix);
  return *match;
}

Result<bool> PodStore::move(const std::string& uuid, std::string_view from,
                            std::string_view to) const {
  std::string source = pod_path(pods_dir_, from, uuid);
  std::string target = pod_path(pods_dir_, to, uuid);
  if (::rename(source.c_str(), target.c_str()) == 0) {
    // The rename starts the grace period: gc measures it from this mtime.
    (void)::utimensat(AT_FDCWD, target.c_str(), nullptr, 0);
    return true;
  }
  if (errno == ENOENT) return false;  // somebody else moved it first
  return Error::from_errno("rename " + source + " to " + target);
}

Result<void> PodStore::delete_locked(const std::string& uuid, std::string_view state_dir) const {
  std::string path = pod_path(pods_dir_, state_dir, uuid);
  auto lock = FileLock::open(path);
  if (!lock) {
    if (lock.error().code() == ENOENT) return ok();
    return std::move(lock).error();
  }
  auto taken = lock->lock(FileLock::Mode::Exclusive, FileLock::Wait::NonBlocking);
  if (!taken) {
    if (taken.error().code() == EWOULDBLOCK) return ok();  // another gc is deleting it
    return std::move(taken).error();
  }
  // A pod that ran may have left networks and cgroups behind (a killed stage1): a failed
  // teardown keeps the pod, so that the next gc tries again rather than leaking for good.
  if (state_dir == "exited-garbage" && stage1_gc_ &&
      sys::path_exists(path + "/" + std::string(kStartedFile)))
    PODRT_TRY_CONTEXT(stage1_gc_(path), "gc pod " + uuid);
  return sys::remove_tree(path);
}

Result<void> PodStore::remove(const std::string& uuid_prefix) const {
  PodInfo pod = PODRT_TRY(find(uuid_prefix));
  switch (pod.state) {
    case PodState::Running:
      return Error::invalid("pod " + pod.uuid + " is running: stop it first");
    case PodState::Preparing:
    case PodState::Embryo:
      return Error::invalid("pod " + pod.uuid + " is being prepared");
    case PodState::Exited:
      PODRT_TRY(move(pod.uuid, "run", "exited-garbage"));
      return delete_locked(pod.uuid, "exited-garbage");
    case PodState::Prepared:
      PODRT_TRY(move(pod.uuid, "prepared", "garbage"));
      return delete_locked(pod.uuid, "garbage");
    case PodState::AbortedPrepare:
      PODRT_TRY(move(pod.uuid, "prepare", "garbage"));
      return delete_locked(pod.uuid, "garbage");
    case PodState::ExitedGarbage:
      return delete_locked(pod.uuid, "exited-garbage");
    case PodState::Garbage:
      return delete_locked(pod.uuid, "garbage");
  }
  return ok();
}

Result<PodGcReport> PodStore::gc(int64_t grace_seconds, int64_t expire_prepared_seconds,
                                 bool mark_only) const {
  PodGcReport report;
  int64_t now = now_seconds();
  // Pass 1: mark.
  for (const PodInfo& pod : PODRT_TRY(list())) {
    bool moved = false;
    if (pod.state == PodState::Exited) {
      moved = PODRT_TRY(move(pod.uuid, "run", "exited-garbage"));
    } else if (pod.state == PodState::AbortedPrepare) {
      moved = PODRT_TRY(move(pod.uuid, "prepare", "garbage"));
    } else if (pod.state == PodState::Prepared && now - pod.created >= expire_prepared_seconds) {
      moved = PODRT_TRY(move(pod.uuid, "prepared", "garbage"));
    } else if (pod.state == PodState::Embryo && now - pod.created >= grace_seconds) {
      moved = PODRT_TRY(move(pod.uuid, "embryo", "garbage"));
    }
    if (moved) report.marked.push_back(pod.uuid);
  }
  if (mark_only) return report;
  // Pass 2: sweep what has been garbage for longer than the grace period.
  for (const PodInfo& pod : PODRT_TRY(list())) {
    if (pod.state != PodState::ExitedGarbage && pod.state != PodState::Garbage) continue;
    std::optional<int64_t> marked_at = mtime_of(pod.path);
    if (grace_seconds > 0 && marked_at && now - *marked_at < grace_seconds) continue;
    std::string_view dir = pod.state == PodState::ExitedGarbage ? "exited-garbage" : "garbage";
    PODRT_TRY(delete_locked(pod.uuid, dir));
    log::debug("removed pod " + pod.uuid);
    report.removed.push_back(pod.uuid);
  }
  return report;
}

Result<std::set<std::string>> PodStore::images_in_use() const {
  std::set<std::string> images;
  for (const PodInfo& pod : PODRT_TRY(list())) {
    if (pod.state == PodState::ExitedGarbage || pod.state == PodState::Garbage) continue;
    std::error_code ec;
    for (const auto& app : fs::directory_iterator(pod.path + "/" + std::string(kAppsInfoDir), ec)) {
      auto id = sys::read_file(app.path().string() + "/" + std::string(kImageIdFile));
      if (id) images.insert(*id);
    }
  }
  return images;
}

}  // namespace podrt::pods
