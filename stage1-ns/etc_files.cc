#include "stage1-ns/etc_files.h"

#include "common/sys/file.h"

namespace podrt::stage1 {
namespace {

std::string resolv_conf(const std::vector<std::string>& servers, const std::vector<std::string>& search,
                        const std::vector<std::string>& options) {
  std::string text = "# written by podrt\n";
  for (const std::string& server : servers) text += "nameserver " + server + "\n";
  if (!search.empty()) {
    text += "search";
    for (const std::string& domain : search) text += " " + domain;
    text += "\n";
  }
  if (!options.empty()) {
    text += "options";
    for (const std::string& option : options) text += " " + option;
    text += "\n";
  }
  return text;
}

}  // namespace

Result<std::vector<rootfs::BindSpec>> write_etc_files(const std::string& etc_dir,
                                                      const std::string& hostname,
                                                      const RunOptions& options,
                                                      const network::PodNetwork& network) {
  PODRT_TRY(sys::make_directories(etc_dir, 0755));
  std::vector<rootfs::BindSpec> binds;

  std::string hosts = "127.0.0.1\tlocalhost localhost.localdomain\n::1\tlocalhost ip6-localhost\n";
  std::string own_address = network.attachments.empty() ? "127.0.1.1" : network.attachments[0].ip;
  hosts += own_address + "\t" + hostname + "\n";
  for (const std::string& entry : options.hosts_entries) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      return Error::invalid("--hosts-entry " + entry + ": expected IP=NAME");
    hosts += entry.substr(0, eq) + "\t" + entry.substr(eq + 1) + "\n";
  }
  PODRT_TRY(sys::write_file_atomic(etc_dir + "/hosts", hosts, 0644, sys::Sync::No));
  binds.push_back({etc_dir + "/hosts", "/etc/hosts", true, false, ""});

  PODRT_TRY(sys::write_file_atomic(etc_dir + "/hostname", hostname + "\n", 0644, sys::Sync::No));
  binds.push_back({etc_dir + "/hostname", "/etc/hostname", true, false, ""});

  bool host_dns = options.dns.size() == 1 && options.dns[0] == "host";
  bool no_dns = options.dns.size() == 1 && options.dns[0] == "none";
  bool nothing_given = options.dns.empty() && network.dns_servers.empty();
  // With nothing from the flags or CNI, the host's servers (what Docker and nspawn do), so
  // that a pod on the default network can resolve names out of the box.
  if (host_dns || nothing_given) {
    if (sys::path_exists("/etc/resolv.conf"))
      binds.push_back({"/etc/resolv.conf", "/etc/resolv.conf", true, false, ""});
  } else if (!no_dns && (!options.dns.empty() || !network.dns_servers.empty())) {
    bool from_flags = !options.dns.empty();
    std::string text = resolv_conf(from_flags ? options.dns : network.dns_servers,
                                   options.dns_search.empty() ? network.dns_search : options.dns_search,
                                   options.dns_options.empty() ? network.dns_options : options.dns_options);
    PODRT_TRY(sys::write_file_atomic(etc_dir + "/resolv.conf", text, 0644, sys::Sync::No));
    binds.push_back({etc_dir + "/resolv.conf", "/etc/resolv.conf", true, false, ""});
  }
  return binds;
}

}  // namespace podrt::stage1
