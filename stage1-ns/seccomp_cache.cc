#include "stage1-ns/seccomp_cache.h"

#include <seccomp.h>

#include "common/log.h"
#include "common/sha512.h"
#include "common/supervisor/seccomp_filter.h"
#include "common/sys/file.h"

namespace podrt::stage1 {
namespace {

/// Everything the compiled program depends on: the policy and the libseccomp that compiles it.
std::string cache_key(const supervisor::SeccompPolicy& policy) {
  const scmp_version* version = seccomp_version();
  std::string text = "podrt-seccomp-v1\n";
  text += policy.mode == supervisor::SeccompPolicy::Mode::Retain ? "retain\n" : "remove\n";
  text += policy.errno_name.value_or("kill") + "\n";
  for (const std::string& name : policy.syscalls) text += name + "\n";
  text += "libseccomp " + std::to_string(version->major) + "." + std::to_string(version->minor) +
          "." + std::to_string(version->micro) + "\n";
  Sha512 digest;
  digest.update(text.data(), text.size());
  return digest.hex_digest().substr(0, 64);
}

}  // namespace

Result<std::string> compiled_seccomp(const supervisor::SeccompPolicy& policy,
                                     const std::string& cache_dir) {
  std::string path = cache_dir + "/" + cache_key(policy) + ".bpf";
  if (auto cached = sys::read_file(path); cached && supervisor::SeccompFilter::from_bpf(*cached))
    return *cached;
  supervisor::SeccompFilter filter = PODRT_TRY(supervisor::SeccompFilter::build(policy));
  std::string program = PODRT_TRY(filter.export_bpf());
  if (program.empty()) return program;
  auto saved = sys::make_directories(cache_dir, 0700);
  if (saved) saved = sys::write_file_atomic(path, program, 0600, sys::Sync::No);
  if (!saved) log::debug("seccomp cache: " + saved.error().message());
  return program;
}

}  // namespace podrt::stage1
