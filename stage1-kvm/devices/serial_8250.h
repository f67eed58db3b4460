// Serial8250: a 16550A-compatible UART (COM1, layout::kSerialPort, eight registers), the guest's
// console (console=ttyS0). It behaves closely enough to the real chip that Linux's 8250 driver
// probes it as a 16550A: IER keeps only its four defined bits, loopback mode (MCR bit 4) wires
// the modem outputs to the MSR inputs and the transmitter to the receiver, and enabling the
// FIFOs sets IIR's two top bits.
//
// Bytes leave at once (THR is always empty) for a host fd, normally the console socket. Console
// output is best-effort: it is queued in a bounded buffer and written without blocking, so a
// host that does not read can never stall a vCPU; bytes are dropped (and counted) only when
// that buffer is full or the host reader is gone. Host input is read by the EventLoop into a
// bounded receive FIFO; reading pauses while it is full. Interrupts go through an
// InterruptLine (an edge on IRQ 4): one each time the UART's interrupt output rises.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/bus/bus_device.h"
#include "stage1-kvm/devices/interrupt_line.h"
#include "stage1-kvm/vmm/event_loop.h"

namespace podrt::vmm {

class Serial8250 : public BusDevice, public std::enable_shared_from_this<Serial8250> {
 public:
  /// The size of the bus range to insert at layout::kSerialPort.
  static constexpr uint64_t kRegisterCount = 8;
  /// Host input waiting for the guest to read it.
  static constexpr size_t kReceiveCapacity = 256;
  /// The chip's own FIFO depth, which loopback mode keeps to: Linux sizes the FIFO by looping
  /// bytes back and counting them, and a 16550A holds 16.
  static constexpr size_t kLoopbackCapacity = 16;
  /// Guest output waiting for the host to take it.
  static constexpr size_t kTransmitCapacity = 64 * 1024;

  // Register offsets (with LCR.DLAB set, offsets 0 and 1 are the divisor latch).
  static constexpr uint64_t kData = 0;             ///< RBR (read) / THR (write); DLL with DLAB
  static constexpr uint64_t kInterruptEnable = 1;  ///< IER; DLM with DLAB
  static constexpr uint64_t kInterruptId = 2;      ///< IIR (read) / FCR (write)
  static constexpr uint64_t kLineControl = 3;      ///< LCR
  static constexpr uint64_t kModemControl = 4;     ///< MCR
  static constexpr uint64_t kLineStatus = 5;       ///< LSR
  static constexpr uint64_t kModemStatus = 6;      ///< MSR
  static constexpr uint64_t kScratch = 7;          ///< SCR

  /// A UART that writes to and reads from `host_fd` (not owned; it must outlive the device, as
  /// must `loop` and `interrupt`). A socket is the normal case. For another kind of fd, output
  /// goes through a non-blocking description of its own where one can be opened (a pipe, a
  /// terminal), and input is read only from pipes and sockets: a terminal is output-only (a
  /// VMM in the background reading one would be stopped by SIGTTIN), and regular files and
  /// write-only fds are output-only too.
  static Result<std::shared_ptr<Serial8250>> create(int host_fd, EventLoop& loop, InterruptLine& interrupt);

  Serial8250(const Serial8250&) = delete;
  Serial8250& operator=(const Serial8250&) = delete;
  ~Serial8250() override;

  /// A wider access is split into byte accesses to consecutive registers, as on the ISA bus.
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  /// Guest output dropped so far (full buffer, or no host reader any more).
  uint64_t dropped_output_bytes() const;

 private:
  /// One fd the device watches on the loop, with the events it is registered for (0: none).
  struct Watch {
    int fd = -1;
    uint32_t events = 0;
  };

  Serial8250(EventLoop& loop, InterruptLine& interrupt) : loop_(&loop), interrupt_(&interrupt) {}

  uint8_t read_register_locked(uint64_t offset);
  void write_register_locked(uint64_t offset, uint8_t value);
  void write_modem_control_locked(uint8_t value);
  void transmit_locked(uint8_t byte);
  /// Writes queued output until the host would block; gives up on a host that is gone.
  void flush_output_locked();
  /// Reads host input into the receive FIFO while there is room.
  void receive_input_locked();
  void host_ready(int fd, uint32_t events);

  /// The interrupt the IIR reports now (its low four bits).
  uint8_t pending_interrupt_locked() const;
  bool interrupt_asserted_locked() const;
  uint8_t modem_status_lines_locked() const;
  bool loopback_locked() const;

  /// Registers, changes or removes the loop's watches to match what the device wants now:
  /// input while the FIFO has room, writability while output is queued.
  Result<void> update_watches_locked();
  Result<void> set_watch_locked(Watch& watch, uint32_t events);

  EventLoop* loop_;
  InterruptLine* interrupt_;
  mutable std::mutex mutex_;

  // Host side.
  int input_fd_ = -1;  ///< -1: no input
  bool input_is_socket_ = false;
  int output_fd_ = -1;
  bool output_is_socket_ = false;
  UniqueFd owned_output_;  ///< a non-blocking reopening of host_fd, when output_fd_ is that
  bool output_open_ = true;
  std::vector<uint8_t> transmit_queue_;
  uint64_t dropped_output_ = 0;
  Watch input_watch_;
  Watch output_watch_;  ///< unused when input and output share one fd (input_watch_ has both)

  // Guest side: the registers.
  std::deque<uint8_t> receive_fifo_;
  uint8_t interrupt_enable_ = 0;
  uint8_t fifo_control_ = 0;
  uint8_t line_control_ = 0;
  uint8_t modem_control_ = 0;
  uint8_t modem_status_deltas_ = 0;
  uint8_t scratch_ = 0;
  uint8_t divisor_low_ = 0x0c;  ///< 9600 baud, as firmware leaves it
  uint8_t divisor_high_ = 0;
  bool transmitter_empty_interrupt_ = false;  ///< THRE pending (cleared by an IIR read)
  bool overrun_ = false;  ///< loopback only: the transmitter found the receive FIFO full
};

}  // namespace podrt::vmm
