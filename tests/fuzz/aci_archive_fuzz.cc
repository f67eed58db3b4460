// libFuzzer target for the ACI importer: arbitrary bytes (compressed or not) are unpacked into a
// fresh directory with small limits. Any crash, sanitizer report, or file appearing beside the
// rootfs (an escape) is a finding.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/sys/file.h"
#include "stage0/image/aci_unpacker.h"

namespace {

const std::string& work_dir() {
  static const std::string dir = [] {
    char pattern[] = "/tmp/podrt-aci-fuzz-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) abort();
    return std::string(pattern);
  }();
  return dir;
}

/// Only input, blob and rootfs may exist in the work dir after a run.
void check_nothing_escaped(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) abort();
  while (struct dirent* entry = ::readdir(handle)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != ".." && name != "input" && name != "blob" && name != "rootfs")
      __builtin_trap();
  }
  ::closedir(handle);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = work_dir();
  const std::string input = dir + "/input";
  const std::string blob = dir + "/blob";
  const std::string rootfs = dir + "/rootfs";
  (void)podrt::sys::remove_tree(rootfs);
  ::unlink(blob.c_str());
  if (::mkdir(rootfs.c_str(), 0755) != 0) abort();
  {
    auto fd = podrt::sys::open_file(input, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!fd) abort();
    for (size_t done = 0; done < size;) {
      ssize_t n = ::write(fd->get(), data + done, size - done);
      if (n <= 0) abort();
      done += static_cast<size_t>(n);
    }
  }

  podrt::image::UnpackLimits limits;
  limits.max_unpacked_bytes = 4 << 20;
  limits.max_entries = 1000;
  limits.max_manifest_bytes = 64 << 10;
  auto result = podrt::image::unpack_aci(input, podrt::image::UnpackTargets{blob, rootfs}, limits);
  (void)result;

  check_nothing_escaped(dir);
  (void)podrt::sys::remove_tree(rootfs);
  ::unlink(blob.c_str());
  ::unlink(input.c_str());
  return 0;
}
