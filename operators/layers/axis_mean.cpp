#include "operators/layers/axis_mean.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

index_t AxisMeanCfg::points() const {
  index_t n = 1;
  for (int e : grid) n *= e;
  return n;
}

index_t AxisMeanCfg::offset(int axis, int batch) const {
  index_t rows = 0;
  for (int a = 0; a < axis; ++a) rows += grid[a];
  return rows * batch * channels;
}

index_t AxisMeanCfg::packed_rows() const {
  index_t rows = 0;
  for (int e : grid) rows += e;
  return rows;
}

namespace axis_mean_impl {

// The grid as three extents (1 for the missing axes) for device code.
struct Grid3 {
  index_t n[3] = {1, 1, 1};
  int d = 0;
};

Grid3 grid3(const AxisMeanCfg& cfg, int batch) {
  SURRO_REQUIRE(cfg.dims() >= 1 && cfg.dims() <= 3,
                "axis_mean: " << cfg.dims() << " axes: expected 1, 2 or 3");
  SURRO_REQUIRE(cfg.channels > 0 && batch > 0,
                "axis_mean: channels " << cfg.channels << ", batch " << batch << ": expected positive");
  Grid3 g;
  g.d = cfg.dims();
  for (int a = 0; a < g.d; ++a) {
    SURRO_REQUIRE(cfg.grid[a] > 0, "axis_mean: grid[" << a << "] = " << cfg.grid[a] << ": expected positive");
    g.n[a] = cfg.grid[a];
  }
  return g;
}

}  // namespace axis_mean_impl

// One thread per output (a, b, i, c), summing the N / N_a points of its hyperplane.
template <class Exec, class Real>
void axis_mean_forward(const Exec& exec, const AxisMeanCfg& cfg, int batch, const Real* x, Real* y) {
  ScopedRegion region("surro::op::axis_mean::forward");
  const auto g = axis_mean_impl::grid3(cfg, batch);
  const index_t D = cfg.channels, B = batch, rows = cfg.packed_rows();
  const index_t n0 = g.n[0], n1 = g.n[1], n2 = g.n[2];
  const int d = g.d;
  Kokkos::parallel_for(
      "surro::op::axis_mean::forward", Kokkos::RangePolicy<Exec>(exec, 0, B * rows * D),
      KOKKOS_LAMBDA(const index_t e) {
        // Find the axis a of the packed row: slabs of B N_a rows each.
        const index_t c = e % D;
        index_t row = e / D, a = 0, na = n0;
        if (row >= B * n0) {
          row -= B * n0;
          a = 1;
          na = n1;
          if (d > 2 && row >= B * n1) {
            row -= B * n1;
            a = 2;
            na = n2;
          }
        }
        const index_t b = row / na, i = row % na;
        // The two other axes, as (outer extent, outer stride) and (inner extent, inner stride).
        const index_t s0 = n1 * n2 * D, s1 = n2 * D, s2 = D;
        index_t base = b * n0 * n1 * n2 * D + c, eu, su, ev, sv;
        if (a == 0) {
          base += i * s0;
          eu = n1, su = s1, ev = n2, sv = s2;
        } else if (a == 1) {
          base += i * s1;
          eu = n0, su = s0, ev = n2, sv = s2;
        } else {
          base += i * s2;
          eu = n0, su = s0, ev = n1, sv = s1;
        }
        double s = 0;
        for (index_t u = 0; u < eu; ++u)
          for (index_t v = 0; v < ev; ++v) s += double(x[base + u * su + v * sv]);
        y[e] = Real(s / double(eu * ev));
      });
}

template <class Exec, class Real>
void axis_mean_backward(const Exec& exec, const AxisMeanCfg& cfg, int batch, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::axis_mean::backward");
  const auto g = axis_mean_impl::grid3(cfg, batch);
  const index_t D = cfg.channels, B = batch;
  const index_t n0 = g.n[0], n1 = g.n[1], n2 = g.n[2], N = n0 * n1 * n2;
  const int d = g.d;
  // dy_a(b, i, c) starts at D B (N_0 + .. + N_{a-1}); weights 1 / (N / N_a).
  const index_t off1 = B * n0 * D, off2 = off1 + B * n1 * D;
  const Real w0 = Real(double(n0) / double(N)), w1 = Real(double(n1) / double(N)),
             w2 = Real(double(n2) / double(N));
  Kokkos::parallel_for(
      "surro::op::axis_mean::backward", Kokkos::RangePolicy<Exec>(exec, 0, B * N * D),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t c = e % D, p = (e / D) % N, b = e / (D * N);
        const index_t i0 = p / (n1 * n2), i1 = (p / n2) % n1, i2 = p % n2;
        Real s = w0 * dy[(b * n0 + i0) * D + c];
        if (d > 1) s += w1 * dy[off1 + (b * n1 + i1) * D + c];
        if (d > 2) s += w2 * dy[off2 + (b * n2 + i2) * D + c];
        dx[e] = s;
      });
}

#define SURRO_X(Exec, Real)                                                                              \
  template void axis_mean_forward<Exec, Real>(const Exec&, const AxisMeanCfg&, int, const Real*, Real*); \
  template void axis_mean_backward<Exec, Real>(const Exec&, const AxisMeanCfg&, int, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
