// "sha256:<hex>" of some bytes, for tests that build blobs and name them by digest.
#pragma once

#include <string>
#include <string_view>

#include "stage0/oci/digest.h"

namespace podrt::oci::testing {

inline std::string sha256_of(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes);
  return sha.digest();
}

}  // namespace podrt::oci::testing
