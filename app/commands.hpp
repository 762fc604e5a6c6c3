#pragma once
// Subcommands that run jobs. Each takes the resolved inputs and returns normally or throws
// surro::Error; cli.cpp maps errors to exit codes.
#include <string>
#include <vector>

namespace surro::app {

struct JobArgs {
  std::string config;               // config file ("" = defaults only)
  std::vector<std::string> sets;    // --set overrides
};

// surro generate: a dataset of N trajectories in The Well's layout, resumable file by file.
void run_generate(const JobArgs& args);
// surro simulate: one trajectory -> ParaView time series + diagnostics CSV.
void run_simulate(const JobArgs& args);
// surro train: returns kExitOk, or kExitInterrupted when a signal stopped it after a checkpoint.
int run_train(const JobArgs& args, bool resume);
// surro validate: reports every layout violation of a file or dataset folder; returns the count.
int run_validate(const std::string& path);
// surro export: a dataset split in another format.
void run_export(const std::string& dataset, const std::string& split, const std::string& format,
                const std::string& output);

}  // namespace surro::app
