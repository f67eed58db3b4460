// BlockDevice: a read-only virtio-blk (virtio spec 5.2) over a host file, for the pod's root
// disk. One request queue; requests are served synchronously in queue_notified (a pread straight
// into the guest's buffers), so the guest's own page cache does the caching.
//
// Request chain: a 16-byte header {le32 type, le32 reserved, le64 sector} in readable buffers,
// then the data buffers, then one status byte, the chain's last writable byte. IN reads
// whole 512-byte sectors inside the capacity (IOERR otherwise), OUT is refused with IOERR (the
// disk is read-only, and VIRTIO_BLK_F_RO tells the driver so), FLUSH succeeds (nothing to
// write back), GET_ID returns the serial, anything else is UNSUPP. A chain without room for a
// header and a status byte is broken beyond a status reply: the device fails.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/virtio/virtio_device.h"

namespace podrt::vmm {

class BlockDevice final : public VirtioDevice {
 public:
  static constexpr uint32_t kDeviceType = 2;
  static constexpr uint64_t kFeatureSegMax = 1ull << 2;  ///< VIRTIO_BLK_F_SEG_MAX
  static constexpr uint64_t kFeatureReadOnly = 1ull << 5;  ///< VIRTIO_BLK_F_RO
  static constexpr uint64_t kFeatureFlush = 1ull << 9;  ///< VIRTIO_BLK_F_FLUSH
  static constexpr uint64_t kSectorSize = 512;
  static constexpr uint16_t kQueueSize = 256;
  /// Data segments per request: the queue minus the header and status descriptors (we offer
  /// no indirect descriptors, so a whole request must fit in the ring).
  static constexpr uint32_t kSegMax = kQueueSize - 2;
  static constexpr size_t kSerialLength = 20;  ///< VIRTIO_BLK_ID_BYTES
  static constexpr std::string_view kDefaultSerial = "podrt";

  // Request types and status values (spec 5.2.6).
  static constexpr uint32_t kRequestIn = 0;
  static constexpr uint32_t kRequestOut = 1;
  static constexpr uint32_t kRequestFlush = 4;
  static constexpr uint32_t kRequestGetId = 8;
  static constexpr uint8_t kStatusOk = 0;
  static constexpr uint8_t kStatusIoError = 1;
  static constexpr uint8_t kStatusUnsupported = 2;

  /// Opens `path` read-only; the capacity is its size rounded down to whole sectors. `serial`
  /// (at most 20 bytes are used) is what GET_ID answers.
  static Result<std::unique_ptr<BlockDevice>> open(const std::string& path,
                                                   std::string_view serial = kDefaultSerial);

  uint64_t capacity_sectors() const { return capacity_sectors_; }

  uint32_t device_type() const override { return kDeviceType; }
  uint16_t queue_count() const override { return 1; }
  uint16_t queue_max_size() const override { return kQueueSize; }
  uint64_t device_features() const override {
    return kFeatureSegMax | kFeatureReadOnly | kFeatureFlush;
  }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  Result<void> activate(uint64_t negotiated_features, VirtioActivation activation) override;
  void queue_notified(uint16_t index) override;
  void reset() override;

 private:
  BlockDevice(UniqueFd file, uint64_t capacity_sectors, std::string serial)
      : file_(std::move(file)), capacity_sectors_(capacity_sectors), serial_(std::move(serial)) {}

  struct Reply {
    uint8_t status = kStatusOk;
    uint32_t data_written = 0;  ///< bytes written before the status byte
  };
  /// Serves one request; an Error means the chain is malformed (the device fails).
  Result<uint32_t> serve_locked(Virtqueue& queue, const DescriptorChain& chain);
  Reply read_sectors_locked(const DescriptorChain& chain, uint64_t sector, uint64_t data_bytes);
  Reply get_id_locked(Virtqueue& queue, const DescriptorChain& chain, uint64_t data_bytes);
  void fail_locked(const Error& error);

  UniqueFd file_;
  uint64_t capacity_sectors_;
  std::string serial_;

  /// Held across all request processing: reset() returning means no request is in flight.
  std::mutex mutex_;
  std::optional<VirtioActivation> activation_;
  bool failed_ = false;
};

}  // namespace podrt::vmm
