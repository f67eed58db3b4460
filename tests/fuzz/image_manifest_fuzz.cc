// Fuzz target for the appc manifest parsers (appc spec aci.md, pods.md): any bytes must give
// a value or an Error, never a crash, an exception or a hang. A parsed manifest must also
// survive to_json() and parse back to an equal value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/appc/image_manifest.h"
#include "common/appc/pod_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto image = podrt::appc::ImageManifest::parse(text);
  if (image) {
    auto again = podrt::appc::ImageManifest::parse(image->to_json().dump());
    if (!again || !(*again == *image)) std::abort();
  }

  auto pod = podrt::appc::PodManifest::parse(text);
  if (pod) {
    auto again = podrt::appc::PodManifest::parse(pod->to_json().dump());
    if (!again || !(*again == *pod)) std::abort();
  }
  return 0;
}
