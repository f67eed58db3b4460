// VcpuExit: why KVM_RUN returned, as a typed value. Each kind carries only its own fields, and the
// data of an access is a span into the vCPU's kvm_run page: writable for the guest's reads (the
// handler fills it and KVM hands it to the guest on the next KVM_RUN), read-only for the guest's
// writes. A span is valid until that vCPU's next run().
//
//   VcpuExit exit = PODRT_TRY(vcpu.run());
//   if (auto* out = exit.as<vcpu_exit::IoOut>()) ...
//   switch (exit.kind()) { case VcpuExit::Kind::kHalt: ... }
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace podrt::vmm {

namespace vcpu_exit {

/// IN/INS from `port`: `count` elements of `size` bytes (count > 1 for rep string I/O), all to
/// be filled in `data` (size * count bytes, element i at data.subspan(i * size, size)).
struct IoIn {
  uint16_t port = 0;
  uint32_t size = 0;
  uint32_t count = 0;
  std::span<uint8_t> data;
  std::span<uint8_t> element(uint32_t index) const { return data.subspan(index * size, size); }
};
/// OUT/OUTS to `port`: `count` elements of `size` bytes that the guest wrote.
struct IoOut {
  uint16_t port = 0;
  uint32_t size = 0;
  uint32_t count = 0;
  std::span<const uint8_t> data;
  std::span<const uint8_t> element(uint32_t index) const {
    return data.subspan(index * size, size);
  }
};
/// A guest load from unbacked guest-physical `address` (1 to 8 bytes) that `data` answers.
struct MmioRead {
  uint64_t address = 0;
  std::span<uint8_t> data;
};
/// A guest store to unbacked guest-physical `address`.
struct MmioWrite {
  uint64_t address = 0;
  std::span<const uint8_t> data;
};
/// HLT with no in-kernel local APIC to wait in (with one, halts never reach the VMM).
struct Halt {};
/// A triple fault (or a shutdown KVM could not handle): the guest is dead or rebooting.
struct Shutdown {};
/// KVM_EXIT_SYSTEM_EVENT: `type` is KVM_SYSTEM_EVENT_SHUTDOWN, _RESET, _CRASH, ...
struct SystemEvent {
  uint32_t type = 0;
};
/// KVM_RUN returned EINTR: a signal, or immediate_exit set by whoever wants the vCPU stopped.
struct Interrupted {};
/// The hardware refused to enter the guest: `hardware_reason` is the VMX/SVM exit reason.
struct FailEntry {
  uint64_t hardware_reason = 0;
  uint32_t cpu = 0;
};
/// KVM could not emulate something: `suberror` is KVM_INTERNAL_ERROR_*.
struct InternalError {
  uint32_t suberror = 0;
};
/// Any other exit reason (KVM_EXIT_*), or an I/O or MMIO exit whose fields were malformed.
struct Unknown {
  uint32_t reason = 0;
};

}  // namespace vcpu_exit

class VcpuExit {
 public:
  /// Kind's order is the variant's: kind() is the index of the alternative held.
  enum class Kind {
    kIoIn,
    kIoOut,
    kMmioRead,
    kMmioWrite,
    kHalt,
    kShutdown,
    kSystemEvent,
    kInterrupted,
    kFailEntry,
    kInternalError,
    kUnknown,
  };
  using Detail = std::variant<vcpu_exit::IoIn, vcpu_exit::IoOut, vcpu_exit::MmioRead,
                              vcpu_exit::MmioWrite, vcpu_exit::Halt, vcpu_exit::Shutdown,
                              vcpu_exit::SystemEvent, vcpu_exit::Interrupted,
                              vcpu_exit::FailEntry, vcpu_exit::InternalError, vcpu_exit::Unknown>;
  static_assert(std::variant_size_v<Detail> == static_cast<size_t>(Kind::kUnknown) + 1);

  /// From one alternative: `return vcpu_exit::Halt{};`.
  template <class T>
    requires std::is_constructible_v<Detail, T>
  VcpuExit(T alternative) : detail_(std::move(alternative)) {}  // NOLINT: implicit

  Kind kind() const { return static_cast<Kind>(detail_.index()); }
  const Detail& detail() const { return detail_; }
  /// The exit's fields if it is of kind T, else nullptr.
  template <class T>
  const T* as() const {
    return std::get_if<T>(&detail_);
  }

  /// One line for logs and errors: "MMIO write of 4 bytes at 0xd0000050".
  std::string describe() const;

 private:
  Detail detail_;
};

}  // namespace podrt::vmm
