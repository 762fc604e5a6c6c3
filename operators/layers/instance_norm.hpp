#pragma once
// instance_norm: torch.nn.InstanceNorm{1,2,3}d without affine or running statistics, on
// channel-last data: statistics per (m, c) over the N points of M independent (N, C) slabs,
//
//   y(m, n, c) = (x(m, n, c) - mean(m, c)) rstd(m, c),   rstd = 1 / sqrt(var + eps)
//
// with the biased variance (1/N) and eps = 1e-5 as torch. For IFactFormer's to_out, x is the
// head-major activation (B, G, N, Dh): M = B G slabs of C = Dh channels, which is torch's
// InstanceNorm3d over the G Dh channels of each sample. Backward, from the saved output:
//   dx = rstd (dy - mean_n(dy) - y mean_n(dy y)).
#include "core/types.hpp"

namespace surro::op {

struct InstanceNormCfg {
  index_t slabs = 0;   // M
  index_t points = 0;  // N
  int channels = 0;    // C
  double eps = 1e-5;
};

// y may alias x.
template <class Exec, class Real>
void instance_norm_forward(const Exec& exec, const InstanceNormCfg& cfg, const Real* x /* (M, N, C) */,
                           Real* y /* (M, N, C) */, Real* rstd /* (M, C) saved */);

// dx overwritten; may alias dy (not y).
template <class Exec, class Real>
void instance_norm_backward(const Exec& exec, const InstanceNormCfg& cfg,
                            const Real* y /* (M, N, C) saved output */, const Real* rstd /* (M, C) */,
                            const Real* dy /* (M, N, C) */, Real* dx /* (M, N, C) */);

}  // namespace surro::op
