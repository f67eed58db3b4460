// An app's environment as appc keeps it: ordered name/value pairs, each name once.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace podrt::appc {

using Environment = std::vector<std::pair<std::string, std::string>>;

/// Sets name=value, replacing an earlier value in place (the order stays the first one's).
inline void set_variable(Environment& environment, const std::string& name,
                         const std::string& value) {
  for (auto& [existing, old_value] : environment) {
    if (existing == name) {
      old_value = value;
      return;
    }
  }
  environment.emplace_back(name, value);
}

/// Sets name=value only if name is not set yet.
inline void set_default(Environment& environment, const std::string& name,
                        const std::string& value) {
  for (const auto& entry : environment)
    if (entry.first == name) return;
  environment.emplace_back(name, value);
}

}  // namespace podrt::appc
