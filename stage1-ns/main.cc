// podrt-stage1-ns: the namespaces stage1 (docs/stage1-contract.md). stage0 runs it in the pod
// directory as `podrt-stage1-ns run|enter|stop|gc [flags] UUID`.
#include "stage1-ns/entrypoints.h"
#include "stage1-ns/stage1_cli.h"

int main(int argc, char** argv) {
  using namespace podrt::stage1;
  CLI::App app{"podrt's namespaces stage1 (run by podrt, not by hand)", "podrt-stage1-ns"};
  RunOptions options;
  add_run_command(app, options);
  Stage1Entrypoints entrypoints;
  entrypoints.run = [&] { return run_pod(options); };
  entrypoints.enter = enter_pod;
  entrypoints.stop = stop_pod;
  entrypoints.gc = gc_pod;
  return run_stage1_command_line(app, argc, argv, options, entrypoints);
}
