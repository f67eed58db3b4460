#include "common/supervisor/capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace podrt::supervisor {
namespace {

bool is_capability_name(std::string_view name) {
  if (name.size() <= 4 || name.substr(0, 4) != "CAP_") return false;
  return std::all_of(name.begin() + 4, name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

// Frees libcap's allocations (cap_t, cap_to_name strings) at scope end.
struct CapFree {
  void operator()(void* object) const { cap_free(object); }
};

}  // namespace

Result<int> capability_from_name(std::string_view name) {
  // libcap would also take numbers and lower case; appc only has the CAP_ names.
  std::string text(name);
  cap_value_t value = 0;
  if (!is_capability_name(name) || cap_from_name(text.c_str(), &value) != 0)
    return Error::invalid("unknown capability \"" + text + "\"");
  return static_cast<int>(value);
}

std::string capability_name(int capability) {
  std::unique_ptr<char, CapFree> name(cap_to_name(static_cast<cap_value_t>(capability)));
  std::string upper = name ? name.get() : "";
  if (upper.empty() || (upper[0] >= '0' && upper[0] <= '9'))
    return "CAP_" + std::to_string(capability);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return upper;
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> kDefault = {
      "CAP_AUDIT_WRITE", "CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FSETID", "CAP_FOWNER",
      "CAP_KILL",        "CAP_MKNOD",  "CAP_NET_RAW",          "CAP_NET_BIND_SERVICE",
      "CAP_SETUID",      "CAP_SETGID", "CAP_SETPCAP",          "CAP_SETFCAP",
      "CAP_SYS_CHROOT"};
  return kDefault;
}

Result<void> drop_bounding_set(const std::vector<int>& keep) {
  // cap_max_bits() asks the running kernel, so capabilities newer than libcap are dropped too.
  int count = static_cast<int>(cap_max_bits());
  for (int capability = 0; capability < count; ++capability) {
    if (std::find(keep.begin(), keep.end(), capability) != keep.end()) continue;
    if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL)
      return Error::from_errno("drop " + capability_name(capability) + " from the bounding set");
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return Error::from_errno("clear the ambient capabilities");
  return ok();
}

Result<void> set_process_capabilities(const std::vector<int>& keep, bool is_root) {
  std::unique_ptr<_cap_struct, CapFree> caps(cap_init());
  if (!caps) return Error::from_errno("allocate capability state");
  if (is_root && !keep.empty()) {
    std::vector<cap_value_t> values(keep.begin(), keep.end());
    int n = static_cast<int>(values.size());
    for (cap_flag_t flag : {CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE})
      if (cap_set_flag(caps.get(), flag, n, values.data(), CAP_SET) != 0)
        return Error::from_errno("build capability sets");
  }
  if (cap_set_proc(caps.get()) != 0) return Error::from_errno("set capabilities");
  return ok();
}

bool has_effective_capability(int capability) {
  std::unique_ptr<_cap_struct, CapFree> caps(cap_get_proc());
  if (!caps) return false;
  cap_flag_value_t value = CAP_CLEAR;
  if (cap_get_flag(caps.get(), static_cast<cap_value_t>(capability), CAP_EFFECTIVE, &value) != 0)
    return false;
  return value == CAP_SET;
}

}  // namespace podrt::supervisor
