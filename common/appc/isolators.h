// Validation of the values of the well-known appc isolators (appc spec ace.md, "Isolators").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace podrt::appc {

/// podrt's own isolators, for what appc does not name (ace.md: an executor may ignore
/// isolators it does not understand): {"max": N} and {"RLIMIT_X": {"soft": N, "hard": N}}.
inline constexpr std::string_view kPidsLimitIsolator = "podrt.io/linux/pids-limit";
inline constexpr std::string_view kRlimitsIsolator = "podrt.io/linux/rlimits";

/// Checks the value of a well-known isolator; values of unknown isolators are accepted as they
/// are (ace.md: an executor MAY ignore isolators it does not understand). Known ones:
/// resource/memory and resource/cpu ({"request","limit"} quantities, at least one),
/// os/linux/capabilities-{retain,remove}-set ({"set": non-empty list of CAP_* names}),
/// os/linux/no-new-privileges (bool), os/linux/seccomp-{retain,remove}-set ({"set": non-empty
/// list of syscall names, "errno": optional upper-case errno name}), os/linux/oom-score-adj
/// (integer -1000..1000), os/linux/cpu-shares (integer 2..262144).
/// `path` names the value in errors ("app.isolators[2].value").
Result<void> validate_isolator_value(std::string_view name, const nlohmann::json& value,
                                     const std::string& path);

/// Checks a resource quantity: a non-negative number, or a string such as "500m", "1G", "128Mi".
bool is_valid_quantity(const nlohmann::json& value);

/// The value of a valid quantity in base units ("128Mi" -> 134217728, "500m" -> 0.5), or
/// nullopt when it is not valid.
std::optional<long double> quantity_value(const nlohmann::json& value);

}  // namespace podrt::appc
