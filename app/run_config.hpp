#pragma once
// The config sections every run shares, and resolution of a whole config file.
//
// A config is a JSON object of sections. Today: "run". Solver, dataset, model and training
// sections join as the subcommands that read them land; an unknown section is an error that
// lists the known ones.
#include "core/config.hpp"

#include <cstdint>
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

struct ResolvedConfig {
  config::json resolved;  // every section with defaults filled in
  RunSection run;
};

// Loads `path` (or starts from {} when path is empty), applies `overrides` in order, validates.
ResolvedConfig resolve_config(const std::string& path, const std::vector<std::string>& overrides);

// Creates run.output_dir and writes the resolved config there as config.json (atomically).
// Returns the path written.
std::string save_resolved_config(const ResolvedConfig& cfg);

}  // namespace surro::app
