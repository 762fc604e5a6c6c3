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
//
// Parallel over the points too: each thread reduces one chunk of `chunk` points of one (m, c), in
// double, in one pass of sums about the chunk's first value; the chunks' (mean, M2) are merged by
// the parallel-variance identity (instance_norm.cpp), and the normalization is elementwise. The
// workspace holds the per-chunk partials.
#include "core/types.hpp"

namespace surro::op {

struct InstanceNormCfg {
  index_t slabs = 0;   // M
  index_t points = 0;  // N
  int channels = 0;    // C
  double eps = 1e-5;
  index_t chunk = 128;  // points per partial reduction
  // y's layout (and dy's): 0, that of x, (M, N, C); G > 0, channel-last over groups of G slabs,
  // (M / G, N, G C) with slab m = b G + g at channels g C ... g C + C - 1. For the IFactFormer's
  // head-major U (B, G, N, Dh) this writes (B, N, G Dh) in the same pass, so that to_out reduces
  // over all G Dh channels in one GEMM instead of one per group.
  int y_groups = 0;
  index_t chunks() const { return (points + chunk - 1) / chunk; }
};

template <class Exec>
struct InstanceNormWorkspace {
  InstanceNormWorkspace(const Exec& exec, const InstanceNormCfg& cfg);
  InstanceNormCfg cfg;
  View1<double, typename Exec::memory_space>
      partial;  // (M, chunks, C, 2) per-chunk (mean, M2) or (sum dy, sum dy y)
  View1<double, typename Exec::memory_space> stats;  // (M, C, 2) merged (mean, rstd) or (mean dy, mean dy y)
};

// y may alias x where y_groups = 0.
template <class Exec, class Real>
void instance_norm_forward(const Exec& exec, const InstanceNormWorkspace<Exec>& ws,
                           const Real* x /* (M, N, C) */, Real* y /* (M, N, C) or (M/G, N, G C) */,
                           Real* rstd /* (M, C) saved */);

// dx overwritten; may alias dy (not y) where y_groups = 0.
template <class Exec, class Real>
void instance_norm_backward(const Exec& exec, const InstanceNormWorkspace<Exec>& ws,
                            const Real* y /* saved output, y's layout */, const Real* rstd /* (M, C) */,
                            const Real* dy /* y's layout */, Real* dx /* (M, N, C) */);

}  // namespace surro::op
