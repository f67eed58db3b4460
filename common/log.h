// Leveled logging to stderr. Users see one-line errors; --debug turns on the chatter.
#pragma once

#include <string_view>

namespace podrt::log {

void set_debug(bool enabled);
bool debug_enabled();

/// "podrt: <message>" on stderr, only with --debug.
void debug(std::string_view message);
/// "podrt: <message>" on stderr: something the user should know, not a failure.
void info(std::string_view message);
/// "podrt: warning: <message>" on stderr.
void warning(std::string_view message);
/// "podrt: <message>" on stderr: the one line a user sees for a failure.
void error(std::string_view message);

}  // namespace podrt::log
