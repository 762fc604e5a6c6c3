#pragma once
// grid_channels: FNO's get_grid. Appends d coordinate channels after the C input channels:
//   y(b, c, n) = x(b, c, n)                      c < C
//   y(b, C + t, n) = i_t / (N_t - 1)             the index along axis t (0 when N_t = 1), t < d
// i.e. torch.linspace(0, 1, N_t) per axis. Backward copies the first C channels of dy.
#include "core/types.hpp"

#include <vector>

namespace surro::op {

struct GridChannelsCfg {
  int c_in = 0;
  std::vector<int> grid;  // (Nx[, Ny[, Nz]]): d = grid.size() coordinate channels
};

template <class Exec, class Real>
void grid_channels_forward(const Exec& exec, const GridChannelsCfg& cfg, int batch,
                           const Real* x /* (B, C, N...) */, Real* y /* (B, C + d, N...) */);

template <class Exec, class Real>
void grid_channels_backward(const Exec& exec, const GridChannelsCfg& cfg, int batch,
                            const Real* dy /* (B, C + d, N...) */,
                            Real* dx /* (B, C, N...) overwritten; may be null */);

}  // namespace surro::op
