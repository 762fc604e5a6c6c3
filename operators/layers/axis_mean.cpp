#include "operators/layers/axis_mean.hpp"

#include <climits>

#include "core/error.hpp"
#include "core/profile.hpp"
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

// Forward: a team per (packed row, block of kLanes channels). Virtual thread (g, w) of the team
// sums channel w over the hyperplane's outer rows u = g, g + G, ... (all inner rows v of each, in
// order) into team scratch; then thread w adds the G partials in slice order. Consecutive threads
// read consecutive channels of one point (coalesced), and G slices give a GPU G times the
// threads of one per output: that form (38,880 threads summing up to 528 terms each at Re_tau 180)
// took 140 us a call on an H100, for about 100 MB read: a quarter of the copy bandwidth by that count
// (it declared no bytes to the profiler). With G = 1 (host spaces) the order is the plain loop's.
// Sums in double.
inline constexpr int kLanes = 32;

template <class Exec>
int mean_slices(const AxisMeanCfg& cfg) {
  if (cfg.slices > 0) return cfg.slices;
  return is_device_exec_v<Exec> ? 8 : 1;
}

template <class Exec, class Real>
struct MeanForward {
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real* x;  // (B, N0, N1, N2, D)
  Real* y;        // packed (sum_a B N_a, D)
  index_t D, B, n0, n1, n2, cblocks;
  int d, G;

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const index_t cb = team.league_rank() % cblocks, packed = team.league_rank() / cblocks;
    // The axis a of the packed row: slabs of B N_a rows each.
    index_t row = packed, a = 0, na = n0;
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
    // The two other axes, as (outer extent, stride) and (inner extent, stride).
    const index_t s0 = n1 * n2 * D, s1 = n2 * D, s2 = D;
    index_t base = b * n0 * n1 * n2 * D + cb * kLanes, eu, su, ev, sv;
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
    double* part = static_cast<double*>(team.team_scratch(0).get_shmem(sizeof(double) * G * kLanes));
    const index_t lanes = D - cb * kLanes < kLanes ? D - cb * kLanes : index_t(kLanes);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, G * kLanes), [&](const int t) {
      const int g = t / kLanes, w = t % kLanes;
      double s = 0;
      if (w < lanes)
        for (index_t u = g; u < eu; u += G)
          for (index_t v = 0; v < ev; ++v) s += double(x[base + w + u * su + v * sv]);
      part[t] = s;
    });
    team.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, int(lanes)), [&](const int w) {
      double s = part[w];
      for (int g = 1; g < G; ++g) s += part[g * kLanes + w];
      y[packed * D + cb * kLanes + w] = Real(s / double(eu * ev));
    });
  }
};

}  // namespace axis_mean_impl

template <class Exec, class Real>
void axis_mean_forward(const Exec& exec, const AxisMeanCfg& cfg, int batch, const Real* x, Real* y) {
  ScopedRegion region("surro::op::axis_mean::forward");
  using namespace axis_mean_impl;
  const auto g = grid3(cfg, batch);
  const index_t D = cfg.channels, B = batch, rows = B * cfg.packed_rows();
  const index_t cblocks = (D + kLanes - 1) / kLanes;
  SURRO_REQUIRE(rows * cblocks <= index_t(INT_MAX),
                "axis_mean: " << rows * cblocks << " teams exceed 32 bits");
  const int G = mean_slices<Exec>(cfg);
  profile::add_work("surro::op::axis_mean::forward",
                    double(g.d * B * cfg.points() * D + rows * D) * sizeof(Real));
  using Policy = Kokkos::TeamPolicy<Exec>;
  Policy policy = is_device_exec_v<Exec> ? Policy(exec, int(rows * cblocks), G * kLanes)
                                         : Policy(exec, int(rows * cblocks), Kokkos::AUTO);
  Kokkos::parallel_for("surro::op::axis_mean::forward",
                       policy.set_scratch_size(0, Kokkos::PerTeam(sizeof(double) * G * kLanes)),
                       MeanForward<Exec, Real>{x, y, D, B, g.n[0], g.n[1], g.n[2], cblocks, g.d, G});
}

// Backward: one element of dx per index, decoded in 32 bits where the size allows (for_each_index).
namespace axis_mean_impl {
template <class Real>
struct MeanBackward {
  const Real* dy;  // packed (sum_a B N_a, D)
  Real* dx;        // (B, N0, N1, N2, D)
  index_t D, N, n0, n1, n2, off1, off2;
  int d;
  Real w0, w1, w2;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I e) const {
    const I Di = I(D), Ni = I(N), n1i = I(n1), n2i = I(n2);
    const I c = e % Di, q = e / Di, p = q % Ni, b = q / Ni;
    const I i0 = p / (n1i * n2i), r = p - i0 * n1i * n2i, i1 = r / n2i, i2 = r - i1 * n2i;
    Real s = w0 * dy[(index_t(b) * n0 + i0) * D + c];
    if (d > 1) s += w1 * dy[off1 + (index_t(b) * n1 + i1) * D + c];
    if (d > 2) s += w2 * dy[off2 + (index_t(b) * n2 + i2) * D + c];
    dx[e] = s;
  }
};

}  // namespace axis_mean_impl

template <class Exec, class Real>
void axis_mean_backward(const Exec& exec, const AxisMeanCfg& cfg, int batch, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::axis_mean::backward");
  const auto g = axis_mean_impl::grid3(cfg, batch);
  const index_t D = cfg.channels, B = batch;
  const index_t n0 = g.n[0], n1 = g.n[1], n2 = g.n[2], N = n0 * n1 * n2;
  // dy_a(b, i, c) starts at D B (N_0 + .. + N_{a-1}); weights 1 / (N / N_a).
  const index_t off1 = B * n0 * D, off2 = off1 + B * n1 * D;
  profile::add_work("surro::op::axis_mean::backward",
                    double(B * N * D + B * cfg.packed_rows() * D) * sizeof(Real));
  for_each_index(exec, "surro::op::axis_mean::backward", B * N * D,
                 axis_mean_impl::MeanBackward<Real>{
                     dy, dx, D, N, n0, n1, n2, off1, off2, g.d, Real(double(n0) / double(N)),
                     Real(double(n1) / double(N)), Real(double(n2) / double(N))});
}

#define SURRO_X(Exec, Real)                                                                              \
  template void axis_mean_forward<Exec, Real>(const Exec&, const AxisMeanCfg&, int, const Real*, Real*); \
  template void axis_mean_backward<Exec, Real>(const Exec&, const AxisMeanCfg&, int, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
