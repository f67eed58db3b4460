// podrt-vmm: podrt's own virtual machine monitor (docs/builtin-vmm.md). podrt-stage1-kvm runs it
// for --hypervisor=builtin with the pod's fds, as it runs QEMU; see vmm_options.h for the flags.
// Exit status: 0 when the guest powered off or rebooted (how a pod's VM ends), 1 when the VM
// could not be built or was stopped for an error (one line on stderr), 2 for a bad command line.
#include <signal.h>

#include <cstdio>

#include "stage1-kvm/vmm/machine.h"
#include "stage1-kvm/vmm/vmm_options.h"

namespace {

// "podrt-vmm: MESSAGE", or "podrt-vmm: NAME: MESSAGE" when --name tells this VM apart.
void report_error(const podrt::vmm::VmmOptions& options, const podrt::Error& error) {
  if (options.name == podrt::vmm::VmmOptions{}.name)
    std::fprintf(stderr, "podrt-vmm: %s\n", error.message().c_str());
  else
    std::fprintf(stderr, "podrt-vmm: %s: %s\n", options.name.c_str(), error.message().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace podrt::vmm;
  auto started = Machine::Clock::now();
  // A console on a pipe whose reader is gone must not kill the VM (the UART drops and counts).
  ::signal(SIGPIPE, SIG_IGN);
  auto parsed = parse_vmm_options(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "podrt-vmm: %s\n", parsed.error().message().c_str());
    return 2;
  }
  if (!parsed->has_value()) return 0;  // --help
  const VmmOptions& options = **parsed;
  auto machine = Machine::build(options, started);
  if (!machine) {
    report_error(options, machine.error());
    return 1;
  }
  podrt::Result<void> ended = (*machine)->run();
  if (!ended) {
    report_error(options, ended.error());
    return 1;
  }
  return 0;
}
