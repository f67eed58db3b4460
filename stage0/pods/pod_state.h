// The states a pod goes through, and the directory that holds each (rkt's pod-lifecycle.md).
// A state is its directory plus whether the pod directory's flock is held.
#pragma once

#include <array>
#include <string_view>

namespace podrt::pods {

enum class PodState {
  Embryo,          ///< pods/embryo: just created
  Preparing,       ///< pods/prepare, locked: prepare is at work
  AbortedPrepare,  ///< pods/prepare, unlocked: a prepare died
  Prepared,        ///< pods/prepared: waiting for run-prepared
  Running,         ///< pods/run, locked by stage1
  Exited,          ///< pods/run, unlocked
  ExitedGarbage,   ///< pods/exited-garbage: exited and marked by gc
  Garbage,         ///< pods/garbage: a failed or expired prepare, marked by gc
};

/// The directories under pods/, in the order list and gc visit them.
inline constexpr std::array<std::string_view, 6> kStateDirectories = {
    "embryo", "prepare", "prepared", "run", "exited-garbage", "garbage"};

/// The name `podrt list` and `podrt status` print (rkt's API state names).
constexpr std::string_view state_name(PodState state) {
  switch (state) {
    case PodState::Embryo: return "embryo";
    case PodState::Preparing: return "preparing";
    case PodState::AbortedPrepare: return "aborted prepare";
    case PodState::Prepared: return "prepared";
    case PodState::Running: return "running";
    case PodState::Exited: return "exited";
    case PodState::ExitedGarbage: return "exited garbage";
    case PodState::Garbage: return "garbage";
  }
  return "unknown";
}

}  // namespace podrt::pods
