// podrt-stage1-kvm: the VM stage1 (docs/stage1-contract.md, docs/guest-protocol.md). stage0
// runs it in the pod directory as `podrt-stage1-kvm run|enter|stop|gc [flags] UUID`; `run`
// takes stage1-ns's flags plus the hypervisor stage0 chose.
#include "stage1-kvm/entrypoints.h"
#include "stage1-ns/stage1_cli.h"

int main(int argc, char** argv) {
  using namespace podrt;
  CLI::App app{"podrt's VM stage1 (run by podrt, not by hand)", "podrt-stage1-kvm"};
  stage1_kvm::KvmRunOptions options;
  std::string acceleration = "tcg";
  CLI::App* run = stage1::add_run_command(app, options.pod);
  run->add_option("--hypervisor", options.hypervisor);
  run->add_option("--accel", acceleration)->check(CLI::IsMember({"kvm", "tcg"}));
  stage1::Stage1Entrypoints entrypoints;
  entrypoints.run = [&] {
    options.acceleration =
        acceleration == "kvm" ? stage1_kvm::Acceleration::kKvm : stage1_kvm::Acceleration::kTcg;
    return stage1_kvm::run_pod(options);
  };
  entrypoints.enter = stage1_kvm::enter_pod;
  entrypoints.stop = stage1_kvm::stop_pod;
  entrypoints.gc = stage1_kvm::gc_pod;
  return stage1::run_stage1_command_line(app, argc, argv, options.pod, entrypoints);
}
