#include "stage0/image/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace podrt::image {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string human_bytes(uint64_t bytes) {
  char text[32];
  if (bytes >= (1ULL << 30)) std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1ULL << 30));
  else if (bytes >= (1ULL << 20)) std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1ULL << 20));
  else std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / 1024);
  return text;
}

int terminal_columns() {
  struct winsize size {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

}  // namespace

bool ProgressBar::enabled() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, uint64_t total_bytes)
    : label_(std::move(label)), total_(total_bytes), enabled_(enabled()) {}

ProgressBar::~ProgressBar() {
  if (!enabled_) return;
  draw();
  std::fputc('\n', stderr);
}

void ProgressBar::update(uint64_t done_bytes) {
  done_ = done_bytes;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::draw() {
  drawn_ = true;
  std::string amount = human_bytes(done_);
  if (total_ > 0) amount += " / " + human_bytes(total_);
  int columns = terminal_columns();
  // "label [=====>    ] amount": the bar takes what the label and the amount leave.
  int bar_width = columns - static_cast<int>(label_.size() + amount.size()) - 5;
  std::string bar;
  if (total_ > 0 && bar_width >= 10) {
    bar_width = std::min(bar_width, 40);
    int filled = static_cast<int>(static_cast<double>(std::min(done_, total_)) / total_ * bar_width);
    bar = " [" + std::string(filled, '=') + std::string(bar_width - filled, ' ') + "]";
  }
  std::fprintf(stderr, "\r\033[K%s%s %s", label_.c_str(), bar.c_str(), amount.c_str());
  std::fflush(stderr);
}

}  // namespace podrt::image
