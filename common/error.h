// Error: what went wrong, as one line a user can act on, with the errno that caused it.
#pragma once

#include <string>

namespace podrt {

/// An error value. `message()` reads like "mount overlay on /pods/x/rootfs: Invalid argument".
class Error {
 public:
  /// An error caused by a failed system call; takes the current errno.
  static Error from_errno(std::string what);
  /// An error with an explicit errno value (0 for none).
  static Error with_code(int code, std::string what);
  /// An error with no errno: bad input, a violated rule.
  static Error invalid(std::string what);

  /// Prepends what was being done: "fetch busybox.aci: " + message.
  Error&& with_context(const std::string& context) &&;
  Error& with_context(const std::string& context) &;

  int code() const { return code_; }
  /// The whole one-line message, errno text included.
  std::string message() const;

 private:
  Error(int code, std::string what) : code_(code), what_(std::move(what)) {}
  int code_ = 0;
  std::string what_;
};

}  // namespace podrt
