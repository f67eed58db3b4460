#include "stage1-kvm/bus/bus.h"

#include <cstdio>
#include <limits>
#include <string>

namespace podrt::vmm {
namespace {

std::string describe_range(uint64_t base, uint64_t size) {
  char text[64];
  std::snprintf(text, sizeof text, "[0x%llx, +0x%llx)", static_cast<unsigned long long>(base),
                static_cast<unsigned long long>(size));
  return text;
}

}  // namespace

Result<void> Bus::insert(uint64_t base, uint64_t size, std::shared_ptr<BusDevice> device) {
  if (!device) return Error::invalid("bus range " + describe_range(base, size) + " has no device");
  if (size == 0) return Error::invalid("bus range " + describe_range(base, size) + " is empty");
  // The end (base + size) must be representable: every offset and end computation stays exact.
  if (size > std::numeric_limits<uint64_t>::max() - base)
    return Error::invalid("bus range " + describe_range(base, size) + " wraps past the end of the address space");

  // The only candidates for an overlap are the first range at or above base and the one below it.
  auto above = ranges_.lower_bound(base);
  if (above != ranges_.end() && above->first - base < size)
    return Error::invalid("bus range " + describe_range(base, size) + " overlaps " +
                          describe_range(above->first, above->second.size));
  if (above != ranges_.begin()) {
    auto below = std::prev(above);
    if (base - below->first < below->second.size)
      return Error::invalid("bus range " + describe_range(base, size) + " overlaps " +
                            describe_range(below->first, below->second.size));
  }
  ranges_.emplace(base, Range{size, std::move(device)});
  return ok();
}

bool Bus::find(uint64_t address, uint64_t length, Target& target) const {
  if (length == 0) return false;
  auto above = ranges_.upper_bound(address);
  if (above == ranges_.begin()) return false;
  const auto& [base, range] = *std::prev(above);
  uint64_t offset = address - base;  // address >= base: no wrap
  if (offset >= range.size || length > range.size - offset) return false;
  target = Target{range.device.get(), offset};
  return true;
}

bool Bus::read(uint64_t address, std::span<uint8_t> data) const {
  Target target{};
  if (!find(address, data.size(), target)) return false;
  target.device->read(target.offset, data);
  return true;
}

bool Bus::write(uint64_t address, std::span<const uint8_t> data) const {
  Target target{};
  if (!find(address, data.size(), target)) return false;
  target.device->write(target.offset, data);
  return true;
}

}  // namespace podrt::vmm
