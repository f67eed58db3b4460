// NetDevice: a virtio-net (virtio spec 5.1) over a host tap fd opened with IFF_TAP | IFF_NO_PI
// and no IFF_VNET_HDR: the tap carries bare Ethernet frames. The device offers the MAC
// (VIRTIO_NET_F_MAC) and the link status (VIRTIO_NET_F_STATUS, always up); no offloads, no
// mergeable rx buffers, so every frame has the 12-byte struct virtio_net_hdr_v1 of virtio 1.x in
// front and fits one rx chain.
//
//   tx (queue 1): the header is stripped, the frame written to the tap. The tap is a NIC: when it
//     would block the frame is dropped and counted, as a full NIC queue would.
//   rx (queue 0): when the tap is readable and an rx chain is posted, one frame is read and
//     delivered behind a zeroed header (num_buffers = 1). A frame larger than the chain's
//     writable space is dropped and counted (the guest's buffers are undersized, as on real
//     hardware). With no rx chain posted the device stops watching the tap until the guest
//     notifies rx: frames wait in the tap's queue.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/virtio/virtio_device.h"
#include "stage1-kvm/vmm/event_loop.h"

namespace podrt::vmm {

using MacAddress = std::array<uint8_t, 6>;

/// "52:54:00:12:34:56" (hex, either case, colons) to its six bytes.
Result<MacAddress> parse_mac_address(std::string_view text);

class NetDevice final : public VirtioDevice {
 public:
  static constexpr uint32_t kDeviceType = 1;
  static constexpr uint64_t kFeatureMac = 1ull << 5;      ///< VIRTIO_NET_F_MAC
  static constexpr uint64_t kFeatureStatus = 1ull << 16;  ///< VIRTIO_NET_F_STATUS
  static constexpr uint16_t kRxQueue = 0;
  static constexpr uint16_t kTxQueue = 1;
  /// struct virtio_net_hdr_v1 (virtio 1.x, with num_buffers).
  static constexpr size_t kHeaderSize = 12;
  /// The largest frame read from the tap: 64 KiB of IP plus the Ethernet header and a VLAN tag.
  static constexpr size_t kMaxFrameSize = 65550;

  /// `tap_fd`: not owned (the caller keeps it open for the device's lifetime); made
  /// non-blocking and registered with `loop`, which must outlive the device. `mac` as
  /// parse_mac_address reads it.
  static Result<std::unique_ptr<NetDevice>> create(int tap_fd, const std::string& mac, EventLoop& loop);
  ~NetDevice() override;
  NetDevice(const NetDevice&) = delete;
  NetDevice& operator=(const NetDevice&) = delete;

  uint32_t device_type() const override { return kDeviceType; }
  uint16_t queue_count() const override { return 2; }
  uint64_t device_features() const override { return kFeatureMac | kFeatureStatus; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  Result<void> activate(uint64_t negotiated_features, VirtioActivation activation) override;
  void queue_notified(uint16_t index) override;
  void reset() override;

  /// Frames from the tap that did not fit the guest's rx chain.
  uint64_t rx_frames_dropped() const;
  /// Frames from the guest that the tap refused (it would block, or failed).
  uint64_t tx_frames_dropped() const;

 private:
  NetDevice(int tap_fd, const MacAddress& mac, EventLoop& loop) : tap_fd_(tap_fd), mac_(mac), loop_(loop) {}

  void on_tap_events(uint32_t events);
  // These run with mutex_ held.
  void transmit();
  void receive();
  void fail(Error error);
  void update_watch();
  bool running() const { return activation_.has_value() && !failed_; }
  /// Raises the used-buffer interrupt once for everything an entry point gave back.
  void flush_interrupt();
  void note_used(const Virtqueue& queue);

  const int tap_fd_;
  const MacAddress mac_;
  EventLoop& loop_;

  mutable std::mutex mutex_;
  std::optional<VirtioActivation> activation_;
  bool failed_ = false;
  bool interrupt_pending_ = false;  ///< a chain went back since the last interrupt
  std::optional<DescriptorChain> rx_chain_;  ///< popped, waiting for a frame
  bool rx_starved_ = false;                  ///< no rx chain: wait for the guest's notify
  bool tap_closed_ = false;                  ///< read gave EOF or an error: stop reading
  std::vector<uint8_t> frame_;               ///< one frame, either direction
  uint64_t rx_dropped_ = 0;
  uint64_t tx_dropped_ = 0;
  bool registered_ = false;
};

}  // namespace podrt::vmm
