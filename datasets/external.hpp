#pragma once
// Readers for datasets other programs wrote as one HDF5 file of N samples on a grid, turned into
// surro's grid dataset model (spec.hpp): the original FNO .mat files (MATLAB v7.3) and PDEBench's
// HDF5 files. `surro import` (app/import.cpp) splits the samples and writes The Well's layout.
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

}  // namespace surro::data
