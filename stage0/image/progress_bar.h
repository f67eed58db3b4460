// ProgressBar: one line on stderr that shows how far a download or an extraction has got.
// Drawn only when stderr is a terminal; everywhere else it prints nothing at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace podrt::image {

class ProgressBar {
 public:
  /// `label` names the work ("sha256:0fe1… download"); `total_bytes` 0 means unknown.
  ProgressBar(std::string label, uint64_t total_bytes);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  /// Ends the line (the bar stays on screen at its last state).
  ~ProgressBar();

  /// Sets how many bytes are done; redraws at most ten times a second.
  void update(uint64_t done_bytes);
  /// Learns the total late (an HTTP Content-Length).
  void set_total(uint64_t total_bytes) { total_ = total_bytes; }

  /// Whether bars are drawn at all (stderr is a terminal).
  static bool enabled();

 private:
  void draw();

  std::string label_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  bool drawn_ = false;
  bool enabled_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace podrt::image
