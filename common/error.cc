#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace podrt {

Error Error::from_errno(std::string what) { return Error(errno, std::move(what)); }

Error Error::with_code(int code, std::string what) { return Error(code, std::move(what)); }

Error Error::invalid(std::string what) { return Error(0, std::move(what)); }

Error&& Error::with_context(const std::string& context) && {
  what_ = context + ": " + what_;
  return std::move(*this);
}

Error& Error::with_context(const std::string& context) & {
  what_ = context + ": " + what_;
  return *this;
}

std::string Error::message() const {
  if (code_ == 0) return what_;
  return what_ + ": " + std::strerror(code_);
}

}  // namespace podrt
