#include "stage1-kvm/virtio/block_device.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace podrt::vmm {
namespace {

constexpr uint64_t kHeaderBytes = 16;

struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(RequestHeader) == kHeaderBytes);

/// struct virtio_blk_config up to blk_size: capacity, size_max, seg_max, geometry, blk_size.
struct BlockConfig {
  uint64_t capacity;
  uint32_t size_max;
  uint32_t seg_max;
  uint16_t cylinders;
  uint8_t heads;
  uint8_t sectors;
  uint32_t block_size;
};
static_assert(sizeof(BlockConfig) == 24);

/// Reads exactly out.size() bytes at `offset`; false on an error or end of file.
bool pread_exact(int fd, std::span<uint8_t> out, uint64_t offset) {
  while (!out.empty()) {
    ssize_t count = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return false;
    out = out.subspan(static_cast<size_t>(count));
    offset += static_cast<uint64_t>(count);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<BlockDevice>> BlockDevice::open(const std::string& path,
                                                       std::string_view serial) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return Error::from_errno("open disk image " + path);
  // lseek rather than fstat: it gives the size of a block device too.
  off_t size = ::lseek(file.get(), 0, SEEK_END);
  if (size < 0) return Error::from_errno("find the size of disk image " + path);
  std::string id(serial.substr(0, kSerialLength));
  return std::unique_ptr<BlockDevice>(
      new BlockDevice(std::move(file), static_cast<uint64_t>(size) / kSectorSize, std::move(id)));
}

void BlockDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  BlockConfig config{};
  config.capacity = capacity_sectors_;
  config.seg_max = kSegMax;
  auto bytes = std::as_bytes(std::span(&config, 1));
  // Bytes past the structure are left as the transport prefilled them.
  if (offset >= bytes.size()) return;
  size_t count = std::min<uint64_t>(data.size(), bytes.size() - offset);
  if (count != 0) std::memcpy(data.data(), bytes.data() + offset, count);
}

Result<void> BlockDevice::activate(uint64_t /*negotiated_features*/, VirtioActivation activation) {
  std::lock_guard lock(mutex_);
  if (activation.queues.empty() || !activation.queues[0].ready())
    return Error::invalid("virtio-blk: the driver did not set up the request queue");
  activation_ = std::move(activation);
  failed_ = false;
  return ok();
}

void BlockDevice::reset() {
  std::lock_guard lock(mutex_);
  activation_.reset();
  failed_ = false;
}

void BlockDevice::fail_locked(const Error& error) {
  failed_ = true;
  activation_->fail(error);  // the transport names the device
}

void BlockDevice::queue_notified(uint16_t index) {
  std::lock_guard lock(mutex_);
  if (!activation_ || failed_ || index != 0) return;
  Virtqueue& queue = activation_->queues[0];
  bool used = false;
  for (;;) {
    auto chain = queue.pop();
    if (!chain) return fail_locked(chain.error());
    if (!*chain) break;
    auto written = serve_locked(queue, **chain);
    if (!written) return fail_locked(written.error());
    if (auto pushed = queue.push_used((*chain)->head, *written); !pushed)
      return fail_locked(pushed.error());
    used = true;
  }
  if (used && !queue.interrupt_suppressed()) activation_->signal_used();
}

Result<uint32_t> BlockDevice::serve_locked(Virtqueue& queue, const DescriptorChain& chain) {
  if (chain.readable_bytes() < kHeaderBytes)
    return Error::invalid("request " + std::to_string(chain.head) + " has no 16-byte header");
  uint64_t writable = chain.writable_bytes();
  if (writable == 0)
    return Error::invalid("request " + std::to_string(chain.head) + " has no status byte");

  RequestHeader header;
  std::span<uint8_t> header_bytes(reinterpret_cast<uint8_t*>(&header), sizeof header);
  PODRT_TRY(queue.read_from(chain, 0, header_bytes));
  uint64_t data_bytes = writable - 1;  // the status byte is the last writable one

  Reply reply;
  switch (header.type) {
    case kRequestIn: reply = read_sectors_locked(chain, header.sector, data_bytes); break;
    case kRequestOut: reply.status = kStatusIoError; break;
    case kRequestFlush: reply.status = kStatusOk; break;
    case kRequestGetId: reply = get_id_locked(queue, chain, data_bytes); break;
    default: reply.status = kStatusUnsupported; break;
  }
  uint8_t status = reply.status;
  PODRT_TRY(queue.write_to(chain, data_bytes, std::span<const uint8_t>(&status, 1)));
  return reply.data_written + 1;
}

BlockDevice::Reply BlockDevice::read_sectors_locked(const DescriptorChain& chain, uint64_t sector,
                                                    uint64_t data_bytes) {
  if (data_bytes % kSectorSize != 0 || sector > capacity_sectors_ ||
      data_bytes / kSectorSize > capacity_sectors_ - sector)
    return {.status = kStatusIoError};
  // pread straight into the guest's buffers: the slices are bounds-checked, and a request is at
  // most 4 GiB (Virtqueue caps chains), so offsets cannot overflow.
  uint64_t file_offset = sector * kSectorSize;
  uint64_t remaining = data_bytes;
  for (const auto& buffer : chain.buffers) {
    if (remaining == 0) break;
    if (!buffer.device_writable) continue;
    uint64_t count = std::min<uint64_t>(buffer.length, remaining);
    auto target = activation_->memory->slice(buffer.address, count);
    if (!target || !pread_exact(file_.get(), *target, file_offset)) {
      // Data already read stays; the status tells the driver not to trust any of it.
      return {.status = kStatusIoError};
    }
    file_offset += count;
    remaining -= count;
  }
  return {.status = kStatusOk, .data_written = static_cast<uint32_t>(data_bytes)};
}

BlockDevice::Reply BlockDevice::get_id_locked(Virtqueue& queue, const DescriptorChain& chain,
                                              uint64_t data_bytes) {
  std::array<uint8_t, kSerialLength> id{};  // NUL-padded; no terminator when 20 bytes long
  std::memcpy(id.data(), serial_.data(), std::min(serial_.size(), id.size()));
  uint64_t count = std::min<uint64_t>(data_bytes, id.size());
  auto written = queue.write_to(chain, 0, std::span<const uint8_t>(id.data(), count));
  if (!written) return {.status = kStatusIoError};
  return {.status = kStatusOk, .data_written = static_cast<uint32_t>(*written)};
}

}  // namespace podrt::vmm
