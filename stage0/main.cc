// podrt: the stage0 command-line tool.
#include "stage0/cli/cli.h"

int main(int argc, char** argv) { return podrt::cli::run(argc, argv); }
