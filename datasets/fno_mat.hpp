#pragma once
// Export to the MATLAB v7.3 .mat files (HDF5 inside) that the original FNO scripts read
// (zongyi-li/fourier_neural_operator: utilities3.py MatReader, fourier_{1d,2d,2d_time,3d}.py).
//
// MatReader reads HDF5-based .mat files with h5py and then reverses ALL axes (MATLAB is
// column-major). So a variable with logical (Python-side) shape (N, S1, S2, T) is stored with HDF5
// dims {T, S2, S1, N}: element (n, i, j, t) at ((t * S2 + j) * S1 + i) * N + n. Every variable is
// float32 with the attribute MATLAB_class = "single" (fixed-length ASCII). The file has a 512-byte
// userblock whose first 128 bytes are the MATLAB header, so MATLAB itself opens it too.
#include "datasets/spec.hpp"

#include <string>

namespace surro::data {

enum class FnoMatKind {
  // 2-D time series (fourier_2d_time.py / fourier_3d.py, Navier–Stokes), laid out as the FNO
  // generator ns_2d.py saves it. From the spec's only time-varying field: a = the initial frame
  // (N, Nx, Ny); u = the frames after it (N, Nx, Ny, T-1), time LAST; t = their times, a (1, T-1)
  // row vector. So u[..., :10] are the 10 input steps and u[..., 10:] the targets, as the scripts use them.
  time_series,
  // 1-D Burgers (fourier_1d.py): from the only time-varying field, a = first frame (N, Nx) and
  // u = last frame (N, Nx).
  burgers,
  // 2-D Darcy (fourier_2d.py): coeff (N, Nx, Ny) from field "a", sol (N, Nx, Ny) from field "u";
  // both must be constant in time.
  darcy,
};

// Writes trajectories block.first .. first + count - 1 (N = block.count) to `path` atomically.
// Errors: Error(runtime) for a spec/block that does not fit the kind (names the kind, field and
// expected shape) or a failing write.
void export_fno_mat(const std::string& path, const DatasetSpec& spec, const Block& block, FnoMatKind kind);

}  // namespace surro::data
