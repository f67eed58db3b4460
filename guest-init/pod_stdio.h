// The apps' stdio in the guest: a pipe each for stdout and stderr (or one pty for an
// interactive app), whose read ends guest-init relays to the host as stdout/stderr frames, and
// a pipe for the supervisor's own messages (relayed as app 0's stderr, as stage1-ns shows them
// on its stderr).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/guest_protocol/frame.h"
#include "common/result.h"
#include "common/supervisor/pod_plan.h"
#include "common/unique_fd.h"

namespace podrt::guest_init {

/// An fd whose bytes go to the host as `type` frames on `channel` (the app's index).
struct OutputSource {
  UniqueFd fd;  ///< non-blocking
  guest_protocol::FrameType type = guest_protocol::FrameType::kStdout;
  uint8_t channel = 0;
};

struct PodStdio {
  std::vector<OutputSource> outputs;
  /// The pty's master (interactive): stdin and resize frames go there; -1 otherwise.
  UniqueFd terminal;
  /// The pty's replica path (/dev/pts/N), shown as the app's /dev/console; empty otherwise.
  std::string terminal_path;
  /// Write end of the supervisor's stderr pipe.
  UniqueFd supervisor_stderr;
  /// Ends that belong to the supervisor and the apps: guest-init closes its copies once the
  /// supervisor runs, so that the read ends see EOF when the last app is gone.
  std::vector<UniqueFd> child_ends;
};

/// Makes the pipes (or the pty) and sets each plan app's stdout_fd and stderr_fd (or
/// terminal_fd) to its ends.
Result<PodStdio> make_pod_stdio(supervisor::PodPlan& plan, bool interactive);

}  // namespace podrt::guest_init
