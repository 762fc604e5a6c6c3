#include "operators/layers/grid_channels.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

namespace grid_impl {

struct Axes {
  int n[3] = {1, 1, 1};  // the grid right-aligned: leading axes of extent 1
  int d = 0;
  index_t points() const { return index_t(n[0]) * n[1] * n[2]; }
};

inline Axes axes(const GridChannelsCfg& cfg) {
  const int d = int(cfg.grid.size());
  SURRO_REQUIRE(d >= 1 && d <= 3, "grid_channels: " << d << " grid axes: expected 1, 2 or 3");
  SURRO_REQUIRE(cfg.c_in >= 0, "grid_channels: c_in = " << cfg.c_in << ": expected >= 0");
  Axes a;
  a.d = d;
  for (int t = 0; t < d; ++t) {
    SURRO_REQUIRE(cfg.grid[t] > 0, "grid_channels: grid[" << t << "] = " << cfg.grid[t] << ": expected > 0");
    a.n[3 - d + t] = cfg.grid[t];
  }
  return a;
}

// Copies channels [0, c_copy) of each sample from src (B, c_src, R) to dst (B, c_dst, R).
template <class Exec, class Real>
void copy_channels(const Exec& exec, int batch, int c_copy, int c_src, int c_dst, index_t r, const Real* src,
                   Real* dst) {
  for_each_3d(
      exec, "surro::op::grid_channels::copy", index_t(batch), index_t(c_copy), r,
      KOKKOS_LAMBDA(const index_t b, const index_t c, const index_t p) {
        dst[(b * c_dst + c) * r + p] = src[(b * c_src + c) * r + p];
      });
}

template <class Exec, class Real>
void fill_coordinates(const Exec& exec, int batch, int c_in, const Axes a, Real* y) {
  const index_t r = a.points();
  const int c_out = c_in + a.d;
  for_each_3d(
      exec, "surro::op::grid_channels::coordinates", index_t(batch), index_t(a.d), r,
      KOKKOS_LAMBDA(const index_t b, const index_t t, const index_t p) {
        const int axis = 3 - a.d + int(t);
        const index_t stride = axis == 2 ? 1 : axis == 1 ? a.n[2] : index_t(a.n[1]) * a.n[2];
        const int i = int((p / stride) % a.n[axis]);
        const int n = a.n[axis];
        y[(b * c_out + c_in + t) * r + p] = n > 1 ? Real(i) / Real(n - 1) : Real(0);
      });
}

}  // namespace grid_impl

template <class Exec, class Real>
void grid_channels_forward(const Exec& exec, const GridChannelsCfg& cfg, int batch, const Real* x, Real* y) {
  ScopedRegion region("surro::op::grid_channels::forward");
  const grid_impl::Axes a = grid_impl::axes(cfg);
  if (cfg.c_in > 0)
    grid_impl::copy_channels(exec, batch, cfg.c_in, cfg.c_in, cfg.c_in + a.d, a.points(), x, y);
  grid_impl::fill_coordinates(exec, batch, cfg.c_in, a, y);
}

template <class Exec, class Real>
void grid_channels_backward(const Exec& exec, const GridChannelsCfg& cfg, int batch, const Real* dy,
                            Real* dx) {
  if (!dx || cfg.c_in == 0) return;
  ScopedRegion region("surro::op::grid_channels::backward");
  const grid_impl::Axes a = grid_impl::axes(cfg);
  grid_impl::copy_channels(exec, batch, cfg.c_in, cfg.c_in + a.d, cfg.c_in, a.points(), dy, dx);
}

#define SURRO_X(Exec, Real)                                                                               \
  template void grid_channels_forward<Exec, Real>(const Exec&, const GridChannelsCfg&, int, const Real*,  \
                                                  Real*);                                                 \
  template void grid_channels_backward<Exec, Real>(const Exec&, const GridChannelsCfg&, int, const Real*, \
                                                   Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
