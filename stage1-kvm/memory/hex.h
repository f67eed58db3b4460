// hex(): guest addresses, ports and register values as the VMM's messages show them ("0xd0000050").
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace podrt::vmm {

inline std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace podrt::vmm
