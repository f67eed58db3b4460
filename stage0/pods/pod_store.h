// PodStore: pods on disk as rkt kept them. Each pod is pods/<state-dir>/<uuid>/; it changes
// state by rename(2) and is guarded by flock(2) on its directory, so concurrent prepare, list,
// status, rm and gc never see half a pod (rkt Documentation/devel/pod-lifecycle.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sys/file_lock.h"
#include "stage0/pods/pod_state.h"

namespace podrt::pods {

/// A pod as found on disk at one moment.
struct PodInfo {
  std::string uuid;
  PodState state = PodState::Embryo;
  std::string path;      ///< the pod directory
  int64_t created = 0;   ///< seconds since the epoch
  std::optional<int64_t> started;
};

/// A pod being prepared: locked, in pods/prepare. Destroyed without commit() it is thrown
/// away (moved to pods/garbage and deleted), so a failed prepare leaves nothing behind.
class PreparingPod {
 public:
  PreparingPod(PreparingPod&& other) noexcept;
  PreparingPod& operator=(PreparingPod&&) = delete;
  ~PreparingPod();

  const std::string& uuid() const { return uuid_; }
  const std::string& path() const { return path_; }
  /// Moves the pod to pods/prepared and lets go of its lock.
  Result<void> commit();

 private:
  friend class PodStore;
  PreparingPod(std::string pods_dir, std::string uuid, sys::FileLock lock);
  std::string pods_dir_;
  std::string uuid_;
  std::string path_;
  std::optional<sys::FileLock> lock_;
  bool committed_ = false;
};

/// What gc did.
struct PodGcReport {
  std::vector<std::string> marked;   ///< moved to exited-garbage or garbage
  std::vector<std::string> removed;  ///< deleted
};

class PodStore {
 public:
  static Result<PodStore> open(const std::string& data_dir);

  /// Creates a new pod in embryo, locks it and moves it to prepare.
  Result<PreparingPod> begin_prepare() const;

  /// rkt's run-prepared: locks a prepared pod and moves it to pods/run. The returned lock
  /// (the open pod directory) is handed to stage1, which holds it while the pod runs.
  Result<sys::FileLock> begin_run(const std::string& uuid) const;

  /// Every pod, in state-directory order.
  Result<std::vector<PodInfo>> list() const;
  /// One pod by full UUID or a unique prefix.
  Result<PodInfo> find(const std::string& uuid_prefix) const;

  /// Deletes an exited, prepared or garbage pod now (rkt's rm); refuses running or preparing pods.
  Result<void> remove(const std::string& uuid_prefix) const;

  /// rkt's two-pass gc: mark exited pods, aborted and expired prepares; then delete marked pods
  /// older than `grace_seconds` (all of them with a grace of 0).
  Result<PodGcReport> gc(int64_t grace_seconds, int64_t expire_prepared_seconds,
                         bool mark_only) const;

  /// Image ids referenced by pods that are not garbage (image gc must keep them).
  Result<std::set<std::string>> images_in_use() const;

  const std::string& pods_dir() const { return pods_dir_; }

  /// What deleting a pod that ran must undo first (stage1's gc entrypoint: networks, cgroups,
  /// mounts); called with the pod locked. Without it, pods are just deleted.
  using Stage1Gc = std::function<Result<void>(const std::string& pod_path)>;
  void set_stage1_gc(Stage1Gc stage1_gc) { stage1_gc_ = std::move(stage1_gc); }

 private:
  explicit PodStore(std::string pods_dir) : pods_dir_(std::move(pods_dir)) {}
  Result<PodInfo> inspect(std::string_view state_dir, const std::string& uuid) const;
  /// Renames a pod between state dirs; ENOENT (a lost race) is reported as not moved.
  Result<bool> move(const std::string& uuid, std::string_view from, std::string_view to) const;
  Result<void> delete_locked(const std::string& uuid, std::string_view state_dir) const;

  std::string pods_dir_;
  Stage1Gc stage1_gc_;
};

}  // namespace podrt::pods
