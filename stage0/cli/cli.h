// Entry point of the podrt command line.
#pragma once

namespace podrt::cli {

/// Parses argv, runs the chosen command and returns the process exit code.
int run(int argc, char** argv);

}  // namespace podrt::cli
