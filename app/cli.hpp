#pragma once
// The surro command line: parses arguments, initializes Kokkos when a subcommand computes, runs
// the subcommand, and maps errors to exit codes. main() only calls this.
namespace surro::app {
int run_cli(int argc, char** argv);
}  // namespace surro::app
