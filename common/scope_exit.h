// ScopeExit: runs a cleanup when the scope ends unless dismissed (for one-off cleanups).
#pragma once

#include <utility>

namespace podrt {

template <class F>
class ScopeExit {
 public:
  explicit ScopeExit(F cleanup) : cleanup_(std::move(cleanup)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (armed_) cleanup_();
  }
  void dismiss() { armed_ = false; }

 private:
  F cleanup_;
  bool armed_ = true;
};

}  // namespace podrt
