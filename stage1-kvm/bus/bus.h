// Bus: the guest addresses of one address space (port I/O or MMIO) mapped to the devices behind
// them. Built once before the vCPUs start and only read afterwards, so lookups take no lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>

#include "common/result.h"
#include "stage1-kvm/bus/bus_device.h"

namespace podrt::vmm {

class Bus {
 public:
  /// Maps [base, base + size) to `device`, which then sees offsets from 0 to size - 1. Refuses
  /// an empty range, one that wraps past the end of the address space, one that overlaps a
  /// range already mapped, and a null device. One device may be inserted at several ranges.
  Result<void> insert(uint64_t base, uint64_t size, std::shared_ptr<BusDevice> device);

  /// Dispatches a guest access to the device whose range holds all of [address, address +
  /// data.size()). False when none does (nothing mapped there, or the access straddles a
  /// range's end, or it is empty): the caller decides what an access to nothing means.
  bool read(uint64_t address, std::span<uint8_t> data) const;
  bool write(uint64_t address, std::span<const uint8_t> data) const;

 private:
  struct Range {
    uint64_t size;
    std::shared_ptr<BusDevice> device;
  };
  struct Target {
    BusDevice* device;
    uint64_t offset;
  };
  /// The device and offset for an access of `length` bytes at `address`, if one range holds it.
  bool find(uint64_t address, uint64_t length, Target& target) const;

  /// Keyed by base; ranges never overlap.
  std::map<uint64_t, Range> ranges_;
};

}  // namespace podrt::vmm
