// Result<T>: a value or an Error, with the API of std::expected so a later C++23 switch is small.
// podrt's own code never throws; fallible functions return Result and callers use PODRT_TRY.
#pragma once

#include <cstdlib>
#include <utility>
#include <variant>

#include "common/error.h"

namespace podrt {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(storage_); }
  Error&& error() && { return std::get<1>(std::move(storage_)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const {}
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_ = Error::invalid("");
  bool failed_ = false;
};

/// Success for Result<void>.
inline Result<void> ok() { return {}; }

}  // namespace podrt

/// Evaluates a Result; on error returns it from the enclosing function, else yields the value.
#define PODRT_TRY(expr)                                         \
  ({                                                            \
    auto&& podrt_try_result_ = (expr);                          \
    if (!podrt_try_result_.has_value())                         \
      return std::move(podrt_try_result_).error();              \
    std::move(podrt_try_result_).value();                       \
  })

/// Like PODRT_TRY, adding what was being done to the error on the way up.
#define PODRT_TRY_CONTEXT(expr, context)                                      \
  ({                                                                          \
    auto&& podrt_try_result_ = (expr);                                        \
    if (!podrt_try_result_.has_value())                                       \
      return std::move(podrt_try_result_).error().with_context(context);      \
    std::move(podrt_try_result_).value();                                     \
  })
