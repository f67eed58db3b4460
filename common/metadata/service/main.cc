// podrt-metadata-service: serves one pod's appc metadata service until SIGTERM or its stage1
// dies. Started by stage1 (stage1-ns/metadata_service.h):
//   podrt-metadata-service --listen IP --identity-key PATH  < pod metadata JSON
// It reads the pod's metadata (common/metadata/pod_metadata.h) from stdin to EOF, listens on
// IP and an ephemeral port, prints AC_METADATA_URL as one line on stdout, closes stdout, and
// serves. Errors are one line on stderr and exit 1.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include <CLI/CLI.hpp>

#include "common/metadata/metadata_server.h"
#include "common/metadata/pod_metadata.h"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "podrt-metadata-service: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace podrt;
  CLI::App app{"one pod's appc metadata service"};
  std::string listen_ip, key_path;
  app.add_option("--listen", listen_ip, "the IP address to listen on")->required();
  app.add_option("--identity-key", key_path, "the host's identity key (made if missing)")->required();
  CLI11_PARSE(app, argc, argv);

  // The service ends with its pod: a SIGTERM from stage1, or stage1's death however it died.
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop, sig);
  ::sigprocmask(SIG_BLOCK, &stop, nullptr);
  pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) return 0;

  std::string text(std::istreambuf_iterator<char>(std::cin), {});
  auto pod = metadata::pod_metadata_from_json(text);
  if (!pod) return fail(pod.error().message());
  auto key = metadata::IdentityKey::load_or_create(key_path);
  if (!key) return fail(key.error().message());
  auto server = metadata::MetadataServer::start(listen_ip, 0, std::move(*pod), std::move(*key));
  if (!server) return fail(server.error().message());
  std::string line = (*server)->url() + "\n";
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return fail("write the URL to stdout: " + std::string(std::strerror(errno)));
  ::close(STDOUT_FILENO);

  int sig = 0;
  ::sigwait(&stop, &sig);
  return 0;
}
