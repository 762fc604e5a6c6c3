#pragma once
// Readers for grid datasets other programs wrote as HDF5, turned into surro's grid dataset model
// (spec.hpp): the original FNO .mat files (MATLAB v7.3), PDEBench's HDF5 files (one file of N samples
// each) and The Well's files (a sequence of files of trajectories). `surro import` (app/import.cpp)
// splits the samples and writes surro's subset of The Well's layout (well.hpp).
//
// FNO .mat (zongyi-li/fourier_neural_operator, MatReader): MATLAB stores column-major, so a variable
// of logical shape (N, S1, S2, T) has HDF5 dims {T, S2, S1, N}. Recognised variable sets:
//   coeff (N,S1,S2), sol (N,S1,S2)          Darcy (piececonst_r421_*): constant fields a, u; grid
//                                            x_i = i / (S - 1) on [0, 1], boundaries wall
//   a (N,X), u (N,X)                        Burgers (burgers_data_R10): field u with 2 frames, a at
//                                            t = 0 and u at t = 1; x_i = i / X, periodic
//   u (N,S1,S2,T) [+ a (N,S1,S2)] [+ t]     Navier-Stokes (ns_V1e-3_N5000_T50, NavierStokes_V1e-5_*):
//                                            field vorticity; a, when present, is the frame at t = 0;
//                                            times from t (1, T) or, without it, 1..T; x_i = i / S,
//                                            periodic
// MATLAB v5 files (not HDF5) are refused with a conversion recipe.
//
// PDEBench (pdebench/PDEBench, data_gen and models/fno/utils.py loaders):
//   tensor (N,T,X), x-coordinate (X), t-coordinate (T or T+1)        1D Burgers/advection: field u
//   tensor (N,1,X,Y), nu (N,X,Y), x-coordinate, y-coordinate         2D Darcy: constant a = nu, u
//   groups "0000".. each data (T,X[,Y],C), grid/x, grid/y, grid/t    diffusion-reaction (C = 2: u, v),
//                                                                    shallow water (C = 1: u)
// Numeric root attributes (Nu, beta, rho) become simulation parameters. PDEBench grids are cell
// centred, boundaries recorded as periodic (Burgers) or wall (Darcy), open (grouped files).
#include "datasets/spec.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace surro::data {

struct ExternalFile {
  DatasetSpec spec;               // dataset_name empty; provenance: source_layout
  long long samples = 0;          // N
  std::vector<std::string> keys;  // PDEBench grouped files: the sample groups, sorted
};

// Inspects the file (no sample data read). Errors: Error(input) naming the file and the variable
// that cannot be represented, with its shape; a MATLAB v5 file gets the conversion recipe.
ExternalFile inspect_fno_mat(const std::string& path);
ExternalFile inspect_pdebench(const std::string& path);

// Samples [first, first + count) as a Block (block.first = first) of info.spec.
Block read_fno_mat(const std::string& path, const ExternalFile& info, long long first, long long count);
Block read_pdebench(const std::string& path, const ExternalFile& info, long long first, long long count);

// The Well (PolymathicAI/the_well, docs/data_format.md and scripts/check_thewell_formatting.py): files
// of n_trajectories trajectories each, all float32 on a cartesian grid. The files of a source are read
// as one sequence of trajectories (file order, then trajectory order). Mapping to surro's model:
//   t0_fields/<f>  (B, [T,] Nx, ...)           field f
//   t1_fields/<f>  (B, [T,] Nx, ..., D)        fields f_<d> for d in spatial_dims     (velocity_x)
//   t2_fields/<f>  (B, [T,] Nx, ..., D, D)     fields f_<d><e>, d the first tensor axis (stress_xy)
//   (The Well's own component names.) A field with dim_varying[k] false is repeated along axis k.
//   dimensions/time and the spatial axes: kept as stored (sample_varying ones only when every
//   trajectory has the same values); the axes must be uniform and increasing.
//   boundary_conditions: one kind per spatial axis (PERIODIC, WALL, OPEN) from the groups whose
//   associated_dims name it; every group is described in provenance "boundary_conditions".
//   scalars (and the simulation_parameters root attributes, preferred for their precision): constant
//   ones equal in every file become DatasetSpec::parameters; sample-varying ones, and constants that
//   differ between files, become per-trajectory Block::sample_parameters.
// Refused with Error(input) naming the file and the HDF5 path: grid_type other than cartesian, more
// than 3 spatial dims, time-varying or sample-dependent coordinates, non-uniform axes, fields that are
// not sample_varying, time-varying scalars, shapes other than the checker's rule
// (B if sample_varying) + (T if time_varying) + (N_k if dim_varying[k]) + (D,) * order, an axis
// without a boundary condition or with two kinds, and files that disagree on dataset_name, axes,
// times, fields or boundaries.
struct WellSource {
  // One stored field: group "t<order>_fields", dataset `name`; its components are spec fields.
  struct Stored {
    int order = 0;
    std::string name;
    bool time_varying = true;
    std::vector<bool> dim_varying;        // (D)
    std::vector<std::string> components;  // (D^order) spec field names, trailing axes LayoutRight
  };
  DatasetSpec spec;                     // dataset_name from the files; provenance: source_layout, ...
  std::vector<std::string> files;       // in sequence order
  std::vector<long long> trajectories;  // per file: n_trajectories
  long long samples = 0;                // sum of trajectories
  std::vector<Stored> stored;
  // Per-trajectory parameters (Block::sample_parameters): name -> per file, the file's constant
  // value, or nullopt where that file stores a sample-varying /scalars/<name> of shape (B).
  std::map<std::string, std::vector<std::optional<double>>> per_sample;
};

// The Well's component names of a field of tensor order 0, 1 or 2: "u"; "u_x", "u_y"; "u_xx", "u_xy", ...
std::vector<std::string> well_component_names(const std::string& name, int order,
                                              const std::vector<std::string>& dims);

// Inspects every file (attributes, axes, shapes; no field data). Errors: see above.
WellSource inspect_the_well(const std::vector<std::string>& files);

// Trajectories [first, first + count) of the sequence as a Block (block.first = first) of src.spec,
// with Block::sample_parameters for src.per_sample.
Block read_the_well(const WellSource& src, long long first, long long count);

}  // namespace surro::data
