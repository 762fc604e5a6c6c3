#pragma once
// Subcommands that run jobs. Each takes the resolved inputs and returns normally or throws
// surro::Error; cli.cpp maps errors to exit codes.
#include <string>
#include <vector>

namespace surro::app {

struct JobArgs {
  std::string config;             // config file ("" = defaults only)
  std::vector<std::string> sets;  // --set overrides
  // train --auto-resume: resume when run.output_dir holds checkpoint_last.h5, start fresh
  // otherwise (a requeued batch job reruns the same command).
  bool auto_resume = false;
  // train --log-every N: a plain progress line every N optimizer steps (0: one line per epoch).
  long long log_every = 0;
};

// surro generate: a dataset of N trajectories in The Well's layout, resumable file by file.
// Returns kExitOk, or kExitInterrupted when a signal stopped it after a complete file.
int run_generate(const JobArgs& args);
// surro simulate: one trajectory -> ParaView time series + diagnostics CSV.
void run_simulate(const JobArgs& args);
// surro train: returns kExitOk, or kExitInterrupted when a signal stopped it after a checkpoint.
int run_train(const JobArgs& args, bool resume);
// surro rollout / surro eval: autoregressive rollout of a checkpoint on dataset trajectories.
struct RolloutArgs {
  std::string checkpoint;
  std::string dataset;  // "" = the dataset the model was trained on (from the checkpoint)
  std::string split = "test";
  std::string output;        // folder for metrics (and, for rollout, fields); "" = print only
  long long samples = 0;     // first K trajectories; 0 = all
  long long start = 0;       // first frame of the initial window
  long long steps = 0;       // 0 = every frame the reference has after the window
  long long vtk_sample = 0;  // which trajectory goes to ParaView
  long long vtk_every = 1;   // ParaView gets steps N, 2N, ... (numbered from 1) and the last
  bool write_fields = true;  // rollout: VTK + HDF5; eval: metrics only
  // Where the trajectories (initial window and reference) come from: "dataset" (the split's files)
  // or "solver": simulated now from the solver config `solver_config` (default: the dataset's
  // config.json) with overrides `solver_sets`, samples 0..K-1 of seed `seed`.
  std::string initial = "dataset";
  std::string solver_config;
  std::vector<std::string> solver_sets;
  long long seed = 1234;
};
int run_rollout(const RolloutArgs& args);

// surro validate: reports every layout violation of a file or dataset folder; returns the count.
int run_validate(const std::string& path);
// surro export: a dataset split in another format.
void run_export(const std::string& dataset, const std::string& split, const std::string& format,
                const std::string& output);

// surro import: a dataset of another program converted into surro's mesh dataset layout
// (app/import.cpp says which formats and what is written); resumable file by file.
struct ImportArgs {
  // The other program's dataset: a folder (meshgraphnets, the-well) or one file (fno-mat, pdebench,
  // the-well); the-well also takes several files, the ones after the first in more_sources.
  std::string source;
  std::vector<std::string> more_sources;
  std::string format;  // "meshgraphnets", "fno-mat", "pdebench", "the-well"
  std::string output;  // the surro dataset folder written (data/<split>/, stats.yaml, config.json)
  std::string name;    // dataset_name and file stem; "" = the source folder's name
  std::vector<std::string> splits = {"train", "valid", "test"};
  long long per_file = 100;  // trajectories per HDF5 file: the unit of resumption and of memory
  long long limit = 0;       // at most this many trajectories per split (the first ones); 0 = all
  // Single-file formats (and the-well given files): samples per split, a count ("800") or a fraction of the
  // file ("0.8"); "" = default (valid and test 10% each, train the rest). Train takes the first samples, test
  // the last.
  std::string train, valid, test;
};
void run_import(const ImportArgs& args);

}  // namespace surro::app
