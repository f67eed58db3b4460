// The docker:// source: pulls an image from a registry through the distribution spec's HTTP API
// (GET /v2/<name>/manifests/<reference>, GET /v2/<name>/blobs/<digest>), verifying every byte.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "stage0/oci/fetched_image.h"
#include "stage0/oci/registry_reference.h"

namespace podrt::oci {

struct RegistryOptions {
  /// rkt's --insecure-options=http: after https fails to connect or handshake, plain http is tried.
  bool allow_http = false;
  long connect_timeout_s = 30;
  /// A transfer slower than 1 byte/s for this long fails with "timed out".
  long low_speed_timeout_s = 30;
  /// The largest layer blob accepted.
  uint64_t max_blob_bytes = 16ULL << 30;
  /// A progress bar per layer download (drawn only when stderr is a terminal).
  bool progress = true;
};

/// Pulls `ref`: the manifest (for an index or manifest list, linux/amd64's), the config and the
/// layers `have_layer` says the store lacks, each layer written to
/// `work_dir`/<digest_file_name(digest)> and verified against its digest and size. Anonymous
/// bearer-token auth is answered; on failure no file is left in work_dir.
Result<FetchedImage> pull_from_registry(const RegistryReference& ref,
                                        const RegistryOptions& options, const std::string& work_dir,
                                        const LayerLookup& have_layer);

}  // namespace podrt::oci
