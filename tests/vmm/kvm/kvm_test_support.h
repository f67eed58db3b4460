// Shared by the Kvm* tests: skipping where there is no usable /dev/kvm, and running a vCPU to
// its next exit of an expected kind.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <optional>

#include "stage1-kvm/kvm/kvm_vcpu.h"

/// Skips the test, saying what went untested, when /dev/kvm cannot be opened read-write.
#define PODRT_REQUIRE_KVM(what_is_not_covered)                                             \
  do {                                                                                     \
    if (::access("/dev/kvm", R_OK | W_OK) != 0)                                            \
      GTEST_SKIP() << "no usable /dev/kvm; not covered: " << (what_is_not_covered);        \
  } while (0)

/// ASSERTs that a Result holds a value, printing the error otherwise; yields the value.
#define PODRT_ASSERT_OK_AND_GET(lhs, expr)                          \
  auto lhs##_result = (expr);                                       \
  ASSERT_TRUE(lhs##_result.has_value()) << lhs##_result.error().message(); \
  auto lhs = std::move(*lhs##_result)

namespace podrt::vmm::test {

/// Runs `vcpu` once and returns the exit if it is a T; otherwise records a failure that says
/// what came instead.
template <class T>
std::optional<T> next_exit(KvmVcpu& vcpu) {
  Result<VcpuExit> exit = vcpu.run();
  if (!exit) {
    ADD_FAILURE() << exit.error().message();
    return std::nullopt;
  }
  if (const T* typed = exit->as<T>()) return *typed;
  ADD_FAILURE() << "unexpected exit: " << exit->describe();
  return std::nullopt;
}

}  // namespace podrt::vmm::test
