#pragma once
// Resolution of a whole config file, and the sections the subcommands share.
//
// A config is a JSON object of sections: "run" (every command), "solver" (simulate, generate),
// "dataset" (generate), "simulate" (simulate). Each subcommand reads the sections it uses; any
// other top-level key is an error that lists the accepted ones.
#include "core/config.hpp"
#include "solvers/solver.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace surro::app {

struct RunSection {
  std::string name;        // run name; names the default output folder
  std::string output_dir;  // where outputs and the resolved config go
  std::uint64_t seed = 0;  // root seed of every random draw in the run
  std::string log_level;   // error | warn | info | debug
};
RunSection read_run_section(config::Node& node);

// "dataset": how many trajectories per split, and how they are cut into files and batches.
struct DatasetSection {
  long long train = 1000, valid = 100, test = 200;
  long long per_file = 100;  // trajectories per HDF5 file: the unit of resumption
  long long batch = 0;       // trajectories simulated at once; at most per_file is used
};
DatasetSection read_dataset_section(config::Node& node);

// "simulate": which sample to run and what to write.
struct SimulateSection {
  long long sample = 0;  // sample index: its initial condition is the generator's sample i
  bool vtk = true;       // write the ParaView time series
};
SimulateSection read_simulate_section(config::Node& node);

// Every section a job config may hold, read and validated when present (so one config serves
// check, simulate and generate alike). `need_solver`: a missing solver section is an error.
struct JobSections {
  std::unique_ptr<solvers::Solver> solver;
  DatasetSection dataset;
  SimulateSection simulate;
};
JobSections read_job_sections(config::Node& root, bool need_solver);

struct ResolvedConfig {
  config::json resolved;  // every section read, with defaults filled in
  std::string file;       // where it came from ("<command line>" when no file)
  RunSection run;
};

// Loads `path` (or {} when empty), applies `overrides` in order, reads "run" and then whatever
// `read_sections` reads from the root node, and rejects unknown top-level keys.
ResolvedConfig resolve_config(const std::string& path, const std::vector<std::string>& overrides,
                              const std::function<void(config::Node& root)>& read_sections = {});

// Creates run.output_dir and writes the resolved config there as config.json (atomically).
// Returns the path written.
std::string save_resolved_config(const ResolvedConfig& cfg);

// Refuses an unsafe output folder before any work (Error(usage) naming `key`): an empty path (it
// would resolve to the working folder, or "/" after string joins), the filesystem root, an existing
// file, or a folder equal to or inside one of `inputs` ({what, path}: a dataset folder, a
// checkpoint) the command reads, whose files it could overwrite. Every command that writes an
// output folder calls it first. Paths compare after resolving "..", symbolic links and "./".
void check_output_dir(const std::string& key, const std::string& dir,
                      const std::vector<std::pair<std::string, std::string>>& inputs = {});

// Refuses an unsafe output file before any work (Error(usage) naming `key`): an empty path, an
// existing folder, or a file equal to or inside one of `inputs` ({what, path}), as check_output_dir.
void check_output_file(const std::string& key, const std::string& file,
                       const std::vector<std::pair<std::string, std::string>>& inputs = {});

// The JSON paths ("solver.viscosity", "train.batch") where two configs differ, depth first: a key
// present on one side only, or a different value. A path in `ignored` (or below one) is skipped.
std::vector<std::string> differing_keys(const config::json& was, const config::json& now,
                                        const std::vector<std::string>& ignored = {});

// The resume check of every command that continues an earlier run (generate, train --resume):
// nothing happens when `changed` (differing_keys of the earlier and this config) is empty; else
// Error(usage) "<what>: k1, k2 changed; <advice>", raised before the command writes anything.
void refuse_changed_keys(const std::string& what, const std::vector<std::string>& changed,
                         const std::string& advice);

// FNV-1a 64 of a JSON value's compact dump: a stable fingerprint of a configuration.
std::string fingerprint(const config::json& value);

}  // namespace surro::app
