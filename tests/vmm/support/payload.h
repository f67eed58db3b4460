// Tiny hand-made guests (tests/vmm/payloads/*.S) for the Kvm* tests. Each is a run of machine
// code between `payload_<name>_start` and `payload_<name>_end` in .rodata; a test copies the
// bytes into guest memory with payload_bytes().
//
// This header is also included by the .S files (__ASSEMBLER__), so the ports, addresses and
// values the guests use are defined once, here. The payloads' copies of layout.h constants are
// checked against it at compile time below.
#pragma once

// Where tests load the 16-bit payloads (CS base 0, IP = this).
#define PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS 0x1000
// real_mode_io: OUT of a fixed byte, IN echoed back, a 4-byte MMIO store and load (through FS,
// whose base the test points at the MMIO window), rep OUTSB and rep INSB, then HLT.
#define PODRT_PAYLOAD_OUT_PORT 0x80
#define PODRT_PAYLOAD_OUT_VALUE 0x42
#define PODRT_PAYLOAD_IN_PORT 0x81
#define PODRT_PAYLOAD_ECHO_PORT 0x82
#define PODRT_PAYLOAD_MMIO_WRITE_OFFSET 0x10
#define PODRT_PAYLOAD_MMIO_WRITE_VALUE 0x12345678
#define PODRT_PAYLOAD_MMIO_READ_OFFSET 0x20
#define PODRT_PAYLOAD_STRING_PORT 0x83
#define PODRT_PAYLOAD_STRING_LENGTH 3
#define PODRT_PAYLOAD_STRING_IN_ADDRESS 0x3000
// long_mode_boot: what guest-init's boot trace writes (layout::kBootTimerPort / Magic).
#define PODRT_PAYLOAD_BOOT_TIMER_PORT 0x4f0
#define PODRT_PAYLOAD_BOOT_TIMER_MAGIC 0x7b
#define PODRT_PAYLOAD_LONG_MODE_RBX 0x0123456789abcdef

#ifndef __ASSEMBLER__

#include <cstdint>
#include <span>

#include "stage1-kvm/x86/layout.h"

static_assert(PODRT_PAYLOAD_BOOT_TIMER_PORT == podrt::vmm::layout::kBootTimerPort);
static_assert(PODRT_PAYLOAD_BOOT_TIMER_MAGIC == podrt::vmm::layout::kBootTimerMagic);

#define PODRT_DECLARE_PAYLOAD(name)           \
  extern "C" const uint8_t payload_##name##_start[]; \
  extern "C" const uint8_t payload_##name##_end[];

/// 16-bit: see the defines above.
PODRT_DECLARE_PAYLOAD(real_mode_io)
/// 16-bit: `1: jmp 1b`, for stopping a busy vCPU.
PODRT_DECLARE_PAYLOAD(real_mode_spin)
/// 64-bit, entered through boot_cpu: RBX = 2 * PODRT_PAYLOAD_LONG_MODE_RBX (a 64-bit add), RDI
/// = the same through a push/pop on the boot stack, then the boot-timer magic OUT and HLT.
PODRT_DECLARE_PAYLOAD(long_mode_boot)
/// 64-bit: ud2 with the boot tables' empty IDT: a triple fault.
PODRT_DECLARE_PAYLOAD(long_mode_triple_fault)

#undef PODRT_DECLARE_PAYLOAD

namespace podrt::vmm::test {

inline std::span<const uint8_t> payload_bytes(const uint8_t* start, const uint8_t* end) {
  return {start, static_cast<size_t>(end - start)};
}

}  // namespace podrt::vmm::test

#define PODRT_PAYLOAD(name) \
  ::podrt::vmm::test::payload_bytes(payload_##name##_start, payload_##name##_end)

#endif  // __ASSEMBLER__
