#pragma once
// axis_mean: FactFormer's PoolingReducer mean. For every spatial axis a of channel-last data
// x (B, N0, N1[, N2], D), the mean over all the other spatial axes:
//
//   y_a(b, i, c) = 1/(N / N_a) sum_{points p with p_a = i} x(b, p, c)
//
// All axes in one call; the outputs are packed axis after axis: y = [y_0 (B, N0, D), y_1 (B, N1, D), ...]
// ((sum_a B N_a, D) in all, y_a at offset D B (N_0 + ... + N_{a-1})). Backward spreads each dy_a
// back evenly and sums over the axes:  dx(b, p, c) = sum_a dy_a(b, p_a, c) / (N / N_a).
#include "core/types.hpp"

#include <vector>

namespace surro::op {

struct AxisMeanCfg {
  std::vector<int> grid;  // (N0, N1[, N2])
  int channels = 0;       // D
  // Slices each output's sum is cut into (axis_mean.cpp): 0 chooses (8 on devices, 1 on host
  // spaces); a positive value forces it, so that host tests cover the sliced sum devices run.
  int slices = 0;
  int dims() const { return int(grid.size()); }
  index_t points() const;                     // N
  index_t offset(int axis, int batch) const;  // where y_axis starts in the packed output
  index_t packed_rows() const;                // sum_a N_a (times B for the packed output's rows)
};

template <class Exec, class Real>
void axis_mean_forward(const Exec& exec, const AxisMeanCfg& cfg, int batch, const Real* x /* (B, N..., D) */,
                       Real* y /* packed (sum_a B N_a, D) */);

// dx overwritten.
template <class Exec, class Real>
void axis_mean_backward(const Exec& exec, const AxisMeanCfg& cfg, int batch, const Real* dy /* packed */,
                        Real* dx /* (B, N..., D) */);

}  // namespace surro::op
