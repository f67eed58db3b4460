#include "common/log.h"

#include <cstdio>

namespace podrt::log {
namespace {
bool g_debug = false;

void emit(std::string_view prefix, std::string_view message) {
  std::fprintf(stderr, "podrt: %.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
               static_cast<int>(message.size()), message.data());
}
}  // namespace

void set_debug(bool enabled) { g_debug = enabled; }
bool debug_enabled() { return g_debug; }
void debug(std::string_view message) {
  if (g_debug) emit("debug: ", message);
}
void info(std::string_view message) { emit("", message); }
void warning(std::string_view message) { emit("warning: ", message); }
void error(std::string_view message) { emit("", message); }

}  // namespace podrt::log
