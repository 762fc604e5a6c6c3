#pragma once
// Process exit codes of the surro executable (documented in README "Exit codes").
namespace surro::app {
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // a run failed: I/O error, library error, diverging solve
  kExitUsage = 2,        // bad command line or config
  kExitInputData = 3,    // bad input data: dataset, checkpoint, mesh
  kExitInterrupted = 4,  // stopped by SIGTERM/SIGUSR1/SIGINT after writing a checkpoint; rerun with --resume
};
}  // namespace surro::app
