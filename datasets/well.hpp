#pragma once
// The Well's HDF5 layout (PolymathicAI/the_well, docs/data_format.md and its checker
// scripts/check_thewell_formatting.py): one file holds a block of trajectories of one dataset.
// docs/datasets.md describes exactly what we write and where we differ from The Well.
//
//   <dir>/data/{train,valid,test}/*.hdf5     one file per block of trajectories
//   <dir>/stats.yaml                         normalization statistics of the train split
#include "datasets/spec.hpp"

#include <map>
#include <string>
#include <vector>

namespace surro::data {

// Writes trajectories [block.first, block.first + block.count) of `spec` to `path` atomically
// (temporary file, then rename). The block is checked against the spec first: every spec field
// present and no other, each of count * sample_size values. Block::sample_parameters (one value per
// trajectory) are written as /scalars/<name> of shape (B), sample_varying, as The Well stores
// per-trajectory scalars. Errors: Error(runtime).
void write_well_file(const std::string& path, const DatasetSpec& spec, const Block& block);

struct WellFile {
  DatasetSpec spec;
  Block block;
};

// Reads a file back, all fields. Reads files written by write_well_file and Well files of the same
// shape family (t0 fields that vary per sample and along every spatial axis, cartesian grid);
// /scalars of shape (B) that vary per sample only come back as Block::sample_parameters.
// Errors are Error(input) naming the file and the HDF5 path: missing, truncated or non-HDF5 file,
// missing group/attribute/field, wrong shape ("expected shape (…), got (…)"), wrong type.
WellFile read_well_file(const std::string& path);

// Every violation of The Well's layout rules (required groups and attributes, their types as
// h5py reads them, the checker's shape rule, simulation_parameters as root attribute and /scalars
// dataset), one message each, starting with the HDF5 path. Empty = valid. A file that cannot be
// opened yields a single message starting with the file path.
std::vector<std::string> validate_well_file(const std::string& path);

// Checks a dataset folder: <dir>/data/{train,valid,test} exist and hold *.hdf5 / *.h5 files, each
// valid under its layout (validate_well_file, or validate_mesh_file for files whose root @layout is
// "surro_mesh"; a folder must not mix layouts), all sharing dataset_name, n_spatial_dims, the field
// list and (grids) the spatial resolution; <dir>/stats.yaml exists and has statistics for every
// field (every component key of a mesh field, see stat_keys). Messages start with the offending path.
std::vector<std::string> validate_dataset_dir(const std::string& dir);

// Normalization statistics in The Well's stats.yaml format: top-level keys mean, mean_delta, rms,
// rms_delta, std, std_delta (alphabetical, as PyYAML dumps them), each mapping field name -> value
// written with %.4E. Computed in float64 over the given (train) files, pooled across files with
// count weights; std is the population standard deviation. *_delta use u[:, 1:] - u[:, :-1] along
// time and exist only for time-varying fields. Mesh-layout files (mesh_file.hpp) are pooled over
// nodes, times and trajectories per component, under the keys of stat_keys (velocity_x, velocity_y,
// pressure); all files must have one layout. Written atomically. Errors: Error(input) for bad files
// or non-finite data, naming the file and field.
void write_stats_yaml(const std::string& path, const std::vector<std::string>& train_files);

// Reads that format back: stat name -> field name -> value. Errors: Error(input) "path:line: ...".
std::map<std::string, std::map<std::string, double>> read_stats_yaml(const std::string& path);

}  // namespace surro::data
