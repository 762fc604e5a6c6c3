#pragma once
// pad / crop for non-periodic problems (FNO's Darcy script: F.pad by p on the right/bottom of the
// spatial axes, cropped back after the last Fourier layer).
//   pad:  (B, C, Nx[, Ny[, Nz]]) -> (B, C, Nx + px[, Ny + py[, Nz + pz]]), zeros in the added cells
//   crop: the inverse shape map, keeping the leading Nx x Ny x Nz corner
// Each is the other's adjoint: pad_backward crops dy, crop_backward pads dy with zeros.
#include "core/types.hpp"

#include <vector>

namespace surro::op {

struct PadCfg {
  int channels = 0;
  std::vector<int> grid;  // unpadded (Nx[, Ny[, Nz]])
  std::vector<int> pad;   // cells added after the end of each axis (>= 0), same length as grid
};

// Throws a usage error on inconsistent lengths or negative/zero extents.
void pad_validate(const PadCfg& cfg);

template <class Exec, class Real>
void pad_forward(const Exec& exec, const PadCfg& cfg, int batch, const Real* x /* (B, C, N...) */,
                 Real* y /* (B, C, N+p...) */);
template <class Exec, class Real>
void pad_backward(const Exec& exec, const PadCfg& cfg, int batch, const Real* dy /* (B, C, N+p...) */,
                  Real* dx /* (B, C, N...) overwritten; may be null */);

template <class Exec, class Real>
void crop_forward(const Exec& exec, const PadCfg& cfg, int batch, const Real* x /* (B, C, N+p...) */,
                  Real* y /* (B, C, N...) */);
template <class Exec, class Real>
void crop_backward(const Exec& exec, const PadCfg& cfg, int batch, const Real* dy /* (B, C, N...) */,
                   Real* dx /* (B, C, N+p...) overwritten; may be null */);

}  // namespace surro::op
