// ConsoleDevice: a virtio-console (virtio spec 5.3) with VIRTIO_CONSOLE_F_MULTIPORT whose one
// port, id 1 named "podrt.control", carries the host<->guest-init control protocol over a host
// stream socket. guest-init finds the port by that name in /sys/class/virtio-ports/*/name.
//
// Queues (max_nr_ports = 2): 0/1 port 0 rx/tx (never added: Linux's multiport driver does not
// need port 0, it only adds the ports the device announces), 2/3 control rx/tx, 4/5 port 1 rx/tx.
//
// Nothing is ever dropped while both ends live, and both directions apply backpressure:
//   guest -> host: a tx chain is given back only once all of its bytes are in the socket; on
//     EAGAIN the device keeps the unsent bytes and the chain, stops taking tx chains and waits for
//     EPOLLOUT. A guest whose tx ring fills blocks in write(), as with a pipe.
//   host -> guest: the device reads from the socket only as much as the posted port-1 rx buffers
//     hold, and only while the guest has the port open (Linux discards data that reaches a closed
//     port). With no rx buffer posted it stops watching EPOLLIN until the guest notifies rx; the
//     host's writes then block in the socket.
// When the host closes its end (read EOF, or EPIPE on write) the device tells the guest
// PORT_OPEN(1, 0): the guest's reads return EOF once the data already delivered is read, its
// writes block (Linux's behaviour for a closed host end); guest output that can no longer reach
// anyone is consumed and discarded so the guest never waits on a dead host.
//
// A guest reset drops the chains the device holds (they are the driver's again) but keeps bytes
// already copied out of the guest and still on their way to the socket.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/virtio/virtio_device.h"
#include "stage1-kvm/vmm/event_loop.h"

namespace podrt::vmm {

class ConsoleDevice final : public VirtioDevice {
 public:
  static constexpr uint32_t kDeviceType = 3;
  static constexpr uint64_t kFeatureMultiport = 1ull << 1;  ///< VIRTIO_CONSOLE_F_MULTIPORT
  static constexpr uint32_t kMaxPorts = 2;
  static constexpr uint32_t kControlPort = 1;
  static constexpr std::string_view kControlPortName = "podrt.control";
  // Queue numbers (spec 5.3.2).
  static constexpr uint16_t kControlRxQueue = 2;
  static constexpr uint16_t kControlTxQueue = 3;
  static constexpr uint16_t kPortRxQueue = 4;  ///< port 1, host -> guest
  static constexpr uint16_t kPortTxQueue = 5;  ///< port 1, guest -> host

  /// Control events (spec 5.3.6.2).
  enum ControlEvent : uint16_t {
    kDeviceReady = 0,
    kDeviceAdd = 1,
    kDeviceRemove = 2,
    kPortReady = 3,
    kConsolePort = 4,
    kResize = 5,
    kPortOpen = 6,
    kPortName = 7,
  };

  /// `socket_fd`: a connected stream socket carrying port 1. Not owned: the caller keeps it open
  /// for the device's lifetime. It is made non-blocking and registered with `loop`, which must
  /// outlive the device; destroy the device while the loop is not running callbacks (or on its
  /// thread).
  static Result<std::unique_ptr<ConsoleDevice>> create(int socket_fd, EventLoop& loop);
  ~ConsoleDevice() override;
  ConsoleDevice(const ConsoleDevice&) = delete;
  ConsoleDevice& operator=(const ConsoleDevice&) = delete;

  uint32_t device_type() const override { return kDeviceType; }
  uint16_t queue_count() const override { return 2 * (kMaxPorts + 1); }
  uint64_t device_features() const override { return kFeatureMultiport; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  Result<void> activate(uint64_t negotiated_features, VirtioActivation activation) override;
  void queue_notified(uint16_t index) override;
  void reset() override;
  /// Bytes of the guest's port tx still on their way to the socket (and a reader is there).
  bool output_pending() const override;

  /// What the guest told us (tests, diagnostics).
  bool guest_port_open() const;
  bool host_connected() const;

 private:
  ConsoleDevice(int socket_fd, EventLoop& loop) : socket_fd_(socket_fd), loop_(loop) {}

  void on_socket_events(uint32_t events);
  // All of these run with mutex_ held.
  void process_control_tx();
  void handle_control_message(std::span<const uint8_t> message);
  void queue_control_message(uint16_t event, uint16_t value, std::string_view payload = {});
  void flush_control_rx();
  void drain_tx();
  void fill_rx();
  void host_closed();
  void fail(Error error);
  void update_watch();
  bool running() const { return activation_.has_value() && !failed_; }
  Virtqueue& queue(uint16_t index) const { return activation_->queues[index]; }
  /// Raises the used-buffer interrupt once for everything an entry point gave back.
  void flush_interrupt();
  void note_used(const Virtqueue& queue);

  const int socket_fd_;
  EventLoop& loop_;

  mutable std::mutex mutex_;
  std::optional<VirtioActivation> activation_;  ///< empty until activate and after reset
  bool failed_ = false;
  bool interrupt_pending_ = false;  ///< a chain went back since the last interrupt

  bool guest_port_ready_ = false;
  bool guest_port_open_ = false;
  bool read_closed_ = false;   ///< the socket gave EOF or a read error
  bool write_broken_ = false;  ///< the socket refused a write (EPIPE, ...)
  /// Host -> guest control messages waiting for a control rx buffer.
  std::deque<std::vector<uint8_t>> control_out_;

  // guest -> host
  std::optional<DescriptorChain> tx_chain_;  ///< being sent; given back once all of it is
  uint64_t tx_chain_offset_ = 0;             ///< bytes of tx_chain_ copied into tx_pending_
  std::vector<uint8_t> tx_pending_;          ///< copied out of the guest, not yet sent
  size_t tx_pending_sent_ = 0;
  bool tx_blocked_ = false;  ///< the socket said EAGAIN (or the budget ran out): wait EPOLLOUT

  // host -> guest
  std::optional<DescriptorChain> rx_chain_;  ///< popped, waiting for socket data
  bool rx_starved_ = false;                  ///< no rx buffer: wait for the guest's notify
  std::vector<uint8_t> rx_buffer_;

  bool registered_ = false;  ///< whether socket_fd_ is in the loop
  uint32_t watched_ = 0;     ///< the events it is registered for
};

}  // namespace podrt::vmm
