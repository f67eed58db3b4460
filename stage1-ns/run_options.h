// The run entrypoint's flags, as stage0 passes them (docs/stage1-contract.md).
#pragma once

#include <string>
#include <vector>

namespace podrt::stage1 {

struct RunOptions {
  std::string uuid;
  std::string data_dir = "/var/lib/podrt";
  bool debug = false;
  std::vector<std::string> networks;  ///< empty: "default"
  std::vector<std::string> dns, dns_search, dns_options, hosts_entries;
  std::string hostname;               ///< empty: podrt-<uuid>
  bool interactive = false;
  bool private_users = false;
  bool disable_seccomp = false;
  bool disable_capabilities = false;
  bool disable_paths = false;
};

}  // namespace podrt::stage1
