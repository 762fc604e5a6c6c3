#pragma once
// rms_norm: graph-physics' RMSNorm over the last (channel) axis of R rows, no bias:
//
//   y(r, c) = scale(c) x(r, c) / d_r,   d_r = rms_r + eps,   rms_r = ||x(r, :)||_2 / sqrt(D)
//
// (eps = 1e-8 added to the RMS, not under the square root: graph-physics' `norm * d**-0.5 + eps`).
// Forward saves rms_r per row. Backward, with g = scale dy and drms/dx(r, c) = x(r, c) / (D rms_r):
//   dx(r, c) = (g(r, c) - x(r, c) sum_c' g(r, c') x(r, c') / (D rms_r d_r)) / d_r
//   dscale(c) += sum_r dy(r, c) x(r, c) / d_r
// A row of zeros (rms = 0) has y = 0 and takes the subgradient 0 of the norm: dx = g / eps.
#include "core/types.hpp"
#include "operators/params.hpp"

#include <string>

namespace surro::op {

struct RmsNormCfg {
  int dim = 0;  // D
  double eps = 1e-8;
};

// Adds prefix.scale (D), graph-physics' name. Throws on dim <= 0.
void rms_norm_register(ParamTable& table, const std::string& prefix, const RmsNormCfg& cfg);

// scale = 1 (graph-physics' initialization).
template <class Exec, class Real>
void rms_norm_init(const Exec& exec, const RmsNormCfg& cfg, Real* scale /* (D) */);

// x and y may alias (y = x in place).
template <class Exec, class Real>
void rms_norm_forward(const Exec& exec, const RmsNormCfg& cfg, index_t rows, const Real* scale /* (D) */,
                      const Real* x /* (R, D) */, Real* y /* (R, D) */, Real* rms /* (R) saved */);

// dx overwritten (may be null; must not alias x or dy); dscale accumulated (may be null).
template <class Exec, class Real>
void rms_norm_backward(const Exec& exec, const RmsNormCfg& cfg, index_t rows, const Real* scale /* (D) */,
                       const Real* x /* (R, D) saved input */, const Real* rms /* (R) saved */,
                       const Real* dy /* (R, D) */, Real* dscale /* (D) += */,
                       Real* dx /* (R, D) overwritten; may be null */,
                       Real* partial = nullptr /* (column_sum_scratch(R, D)) or null */);

}  // namespace surro::op
