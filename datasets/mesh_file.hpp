#pragma once
// Trajectories on unstructured meshes in HDF5 (issue #10): one file holds a block of trajectories
// of one dataset, each with its own mesh. docs/datasets.md ("Mesh datasets") is the layout's spec:
//
//   /  @layout = "surro_mesh", @dataset_name, @n_spatial_dims, @n_trajectories, @spatial_dims,
//      @field_names, @field_components, @field_time_varying, @simulation_parameters (+ one float64
//      attribute each), @sample_parameters, @surro_<provenance>, @surro_first_trajectory
//   /time                               float64 (T)
//   /trajectories/<global index %06d>   mesh_pos float64 (V, D), cells int32 (Nc, D+1),
//                                       node_type int32 (V), [facets int32 (Nf, D), facet_tags int32 (Nf)],
//                                       <field> float32 (T, V, C) or (V, C); @<sample parameter> float64
//
// A dataset folder (<dir>/data/{train,valid,test}/*.hdf5 + stats.yaml) holds files of one layout;
// validate_dataset_dir and write_stats_yaml (well.hpp) recognise this layout by the root @layout.
#include "datasets/spec.hpp"

#include <string>
#include <vector>

namespace surro::data {

// The value of the root attribute `layout` that marks a mesh file (grid files have none).
constexpr const char* kMeshLayout = "surro_mesh";

// Writes trajectories [block.first, block.first + block.count) of an on_mesh `spec` to `path`
// atomically. The spec and block are checked first: spec.on_mesh, 2 or 3 dims, unique field names,
// strictly increasing times; one mesh per trajectory with node types, cells indexing its points;
// every spec field present and no other, with sum_b (T,) V_b C values; every sample parameter with
// `count` values. Errors: Error(runtime) "write_mesh_file: <path>: <what>: expected ..., got ...".
void write_mesh_file(const std::string& path, const DatasetSpec& spec, const Block& block);

struct MeshFile {
  DatasetSpec spec;  // on_mesh = true; coords and boundaries empty
  Block block;       // the trajectories read, block.first their global index
};

// Reads trajectories [begin, begin + count) of the file (positions within the file; count < 0: to
// the end; count = 0: the spec only). Accepts what write_mesh_file writes and files of the documented
// layout from other writers (mesh_pos of any float width, integer arrays of any width up to 32 bits).
// Errors: Error(input) "<file>: <HDF5 path>: ... expected ..., got ..."; a range outside the file's
// trajectories is Error(usage).
MeshFile read_mesh_file(const std::string& path, long long begin = 0, long long count = -1);

// True when `path` opens as HDF5 and its root attribute `layout` is kMeshLayout; false otherwise
// (grid files, unreadable files: the grid validator then reports those).
bool is_mesh_file(const std::string& path);

// Every violation of the layout, one message each, starting with the HDF5 path: missing or mistyped
// groups, datasets and attributes; shapes (V of mesh_pos vs node_type and fields, T vs /time, the
// component counts); cells or facets indexing outside [0, V); node types outside [0, 9); times not
// strictly increasing; NaN/Inf in /time, any coordinate or field value (counted, with the first
// trajectory, time index, node and component). Empty = valid. A file that cannot be opened yields a
// single message starting with the file path.
std::vector<std::string> validate_mesh_file(const std::string& path);

// The stats.yaml keys of a mesh field: its name when C = 1; "<name>_<dim>" per component when C
// equals the number of spatial dims (velocity -> velocity_x, velocity_y); "<name>_<c>" (c from 0)
// otherwise.
std::vector<std::string> stat_keys(const FieldSpec& field, const std::vector<std::string>& dims);

// Export to the HDF5 layout graph-physics (DonsetPG/graph-physics, H5Dataset) reads: every
// trajectory of `mesh_files` (in order) as a root group named by its global index holding
// mesh_pos float32 (T, V, D), cells int32 (T, Nc, D+1), node_type int32 (T, V, 1) (static data
// repeated along time), and each field float32 (T, V, C) (static fields repeated too); and beside it
// graph_physics_meta_path(path), the JSON "meta" file graph-physics reads (dt, trajectory_length,
// features in node-feature order, field_names). The files must share dataset_name, fields and times,
// and the times must be equally spaced (graph-physics computes t = frame * dt). Both outputs are
// written atomically. Errors: Error(input) naming the file.
void export_graph_physics(const std::string& path, const std::vector<std::string>& mesh_files);

// "<dir>/<stem>_meta.json" for "<dir>/<stem>.<ext>".
std::string graph_physics_meta_path(const std::string& path);

}  // namespace surro::data
