#include "operators/layers/instance_norm.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <cmath>
#include <string>

namespace surro::op {

template <class Exec>
InstanceNormWorkspace<Exec>::InstanceNormWorkspace(const Exec& exec, const InstanceNormCfg& c) : cfg(c) {
  SURRO_REQUIRE(c.slabs > 0 && c.points > 0 && c.channels > 0 && c.chunk > 0,
                "instance_norm: slabs " << c.slabs << ", points " << c.points << ", channels " << c.channels
                                        << ", chunk " << c.chunk << ": expected positive");
  SURRO_REQUIRE(
      c.y_groups >= 0 && (c.y_groups == 0 || c.slabs % c.y_groups == 0),
      "instance_norm: y_groups " << c.y_groups << ": expected 0 or a divisor of slabs = " << c.slabs);
  using V = View1<double, typename Exec::memory_space>;
  partial = make_scratch<V>(exec, "surro::op::instance_norm::partial", c.slabs * c.chunks() * c.channels * 2);
  stats = make_scratch<V>(exec, "surro::op::instance_norm::stats", c.slabs * c.channels * 2);
}

namespace instance_norm_impl {

// The two elementwise passes over (M, N, C). Threads run over (m, point block, c), c fastest, P
// points per thread: a thread reads its (m, c) statistics once, issues its P loads before the first
// store (which may alias them where y_groups = 0: y = x, dx = dy), and a warp's loads and stores
// are runs of consecutive channels. One index division per P elements, in 32 bits where the
// threads fit (for_each_index). The earlier form (4 consecutive elements per thread) reached 48%
// of the copy bandwidth on an H100: each of its store instructions wrote every fourth word of a
// span (bench/RESULTS.md 2026-12-07, session 21).
constexpr int kPoints = 4;  // P

// y's (and dy's) layout, InstanceNormCfg::y_groups G: where point p of slab m, channel ch lies, and
// the step to the next point (C, or G C where y is channel-last). Used by every pass that reads or
// writes y.
struct YLayout {
  index_t n, c, g;  // N, C, G
  KOKKOS_INLINE_FUNCTION index_t step() const { return g > 0 ? g * c : c; }
  template <class I>
  KOKKOS_INLINE_FUNCTION index_t at(const I m, index_t p, index_t ch) const {
    if (g == 0) return (index_t(m) * n + p) * c + ch;
    return (index_t(m / I(g)) * n + p) * g * c + index_t(m % I(g)) * c + ch;
  }
};

// The shape both elementwise passes share: y's layout and ceil(N / P) point blocks.
struct Shape {
  YLayout y;
  index_t blocks;
};

// Thread t's statistic s = m C + c, its cnt <= P points from n0, their first element in x's layout
// (e0, then every C) and in y's (ey0, then every ystep).
struct Tile {
  index_t s, e0, ey0, ystep;
  int cnt;
  template <class I>
  KOKKOS_INLINE_FUNCTION Tile(const I t, const Shape& sh) {
    const index_t n = sh.y.n, c = sh.y.c;
    const I ch = t % I(c), r = t / I(c), nb = r % I(sh.blocks), m = r / I(sh.blocks);
    const index_t n0 = index_t(nb) * kPoints;
    s = index_t(m) * c + index_t(ch);
    e0 = (index_t(m) * n + n0) * c + index_t(ch);
    ey0 = sh.y.at(m, n0, index_t(ch));
    ystep = sh.y.step();
    cnt = n - n0 < kPoints ? int(n - n0) : kPoints;
  }
};

template <class Real>
struct Normalize {  // y = (x - mean) rstd, both in double
  const Real* x;
  Real* y;
  const double* st;  // (M C, 2): mean, rstd
  Shape sh;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I t) const {
    const Tile p(t, sh);
    const double mu = st[2 * p.s], rs = st[2 * p.s + 1];
    Real v[kPoints] = {};
    for (int k = 0; k < kPoints; ++k)
      if (k < p.cnt) v[k] = x[p.e0 + k * sh.y.c];
    for (int k = 0; k < kPoints; ++k)
      if (k < p.cnt) y[p.ey0 + k * p.ystep] = Real((double(v[k]) - mu) * rs);
  }
};

template <class Real>
struct InputGrad {  // dx = rstd (dy - mean(dy) - y mean(dy y))
  const Real *y, *rstd, *dy;
  Real* dx;
  const double* st;  // (M C, 2): mean(dy), mean(dy y)
  Shape sh;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I t) const {
    const Tile p(t, sh);
    const double r = double(rstd[p.s]), mg = st[2 * p.s], mgy = st[2 * p.s + 1];
    Real vy[kPoints] = {}, vg[kPoints] = {};
    for (int k = 0; k < kPoints; ++k)
      if (k < p.cnt) {
        vy[k] = y[p.ey0 + k * p.ystep];
        vg[k] = dy[p.ey0 + k * p.ystep];
      }
    for (int k = 0; k < kPoints; ++k)
      if (k < p.cnt) dx[p.e0 + k * sh.y.c] = Real(r * (double(vg[k]) - mg - double(vy[k]) * mgy));
  }
};

// Runs F over the M C ceil(N / P) threads of the workspace's shape.
template <template <class> class F, class Exec, class Real, class... Args>
void elementwise(const Exec& exec, const std::string& label, const InstanceNormCfg& c, Args... args) {
  const Shape sh{{c.points, index_t(c.channels), index_t(c.y_groups)}, (c.points + kPoints - 1) / kPoints};
  for_each_index(exec, label, c.slabs * sh.blocks * c.channels, F<Real>{args..., sh});
}

}  // namespace instance_norm_impl

template <class Exec, class Real>
void instance_norm_forward(const Exec& exec, const InstanceNormWorkspace<Exec>& ws, const Real* x, Real* y,
                           Real* rstd) {
  ScopedRegion region("surro::op::instance_norm::forward");
  const InstanceNormCfg& c = ws.cfg;
  const index_t N = c.points, C = c.channels, S = c.chunk, K = c.chunks();
  const double eps = c.eps;
  double* part = ws.partial.data();
  double* st = ws.stats.data();
  const double values = double(c.slabs) * N * C;
  profile::add_work("surro::op::instance_norm::forward_partial", values * sizeof(Real));
  profile::add_work("surro::op::instance_norm::forward_normalize", 2.0 * values * sizeof(Real));
  // Per chunk (m, k, c): mean and M2 of its points in one pass, the sums taken about the chunk's
  // first value a: mean = a + s1 / n, M2 = s2 - s1^2 / n with s1 = sum (x - a), s2 = sum (x - a)^2.
  // About a sample of the data the subtraction loses at most a factor ~n of relative accuracy
  // (s2 <= n M2 + n (mean - a)^2), far below float's in double. Consecutive threads: consecutive c.
  Kokkos::parallel_for(
      "surro::op::instance_norm::forward_partial", Kokkos::RangePolicy<Exec>(exec, 0, c.slabs * K * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t ch = e % C, k = (e / C) % K, m = e / (C * K);
        const index_t n0 = k * S, n1 = n0 + S < N ? n0 + S : N;
        const Real* xs = x + m * N * C + ch;
        const double a = double(xs[n0 * C]), cnt = double(n1 - n0);
        double s1 = 0, s2 = 0;
        for (index_t n = n0; n < n1; ++n) {
          const double dv = double(xs[n * C]) - a;
          s1 += dv;
          s2 += dv * dv;
        }
        const double m2 = s2 - s1 * s1 / cnt;
        part[2 * e] = a + s1 / cnt;
        part[2 * e + 1] = m2 > 0 ? m2 : 0.0;
      });
  // Per (m, c): mean = sum n_k mean_k / N, then M2 = sum (M2_k + n_k (mean_k - mean)^2): the
  // parallel-variance identity, with no division in the loops (Chan et al.'s pairwise update puts
  // two on each chunk's dependency chain; that merge took 88 us a call, 7,200 threads, in the H200
  // profile of bench/RESULTS.md 2026-12-07, session 18; this form 38 us on an H100, session 21).
  Kokkos::parallel_for(
      "surro::op::instance_norm::forward_merge", Kokkos::RangePolicy<Exec>(exec, 0, c.slabs * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t ch = e % C, m = e / C;
        const double* pe = part + 2 * (m * K * C + ch);  // chunk k at pe[2 k C]
        const double last = double(N - (K - 1) * S);     // the last chunk's points; the others have S
        double sum = 0;
        for (index_t k = 0; k + 1 < K; ++k) sum += pe[2 * k * C];
        const double mu = (double(S) * sum + last * pe[2 * (K - 1) * C]) / double(N);
        double m2 = 0, dev = 0;
        for (index_t k = 0; k + 1 < K; ++k) {
          const double d = pe[2 * k * C] - mu;
          m2 += pe[2 * k * C + 1];
          dev += d * d;
        }
        const double dl = pe[2 * (K - 1) * C] - mu;
        m2 += double(S) * dev + pe[2 * (K - 1) * C + 1] + last * dl * dl;
        const double rs = 1.0 / ::sqrt(m2 / double(N) + eps);
        st[2 * e] = mu;
        st[2 * e + 1] = rs;
        rstd[e] = Real(rs);
      });
  instance_norm_impl::elementwise<instance_norm_impl::Normalize, Exec, Real>(
      exec, "surro::op::instance_norm::forward_normalize", c, x, y, (const double*)st);
}

template <class Exec, class Real>
void instance_norm_backward(const Exec& exec, const InstanceNormWorkspace<Exec>& ws, const Real* y,
                            const Real* rstd, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::instance_norm::backward");
  const InstanceNormCfg& c = ws.cfg;
  const index_t N = c.points, C = c.channels, S = c.chunk, K = c.chunks();
  const instance_norm_impl::YLayout yl{N, C, index_t(c.y_groups)};
  double* part = ws.partial.data();
  double* st = ws.stats.data();
  const double values = double(c.slabs) * N * C;
  profile::add_work("surro::op::instance_norm::backward_partial", 2.0 * values * sizeof(Real));
  profile::add_work("surro::op::instance_norm::backward_x", 3.0 * values * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::instance_norm::backward_partial", Kokkos::RangePolicy<Exec>(exec, 0, c.slabs * K * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t ch = e % C, k = (e / C) % K, m = e / (C * K);
        const index_t n0 = k * S, n1 = n0 + S < N ? n0 + S : N;
        const index_t base = yl.at(m, 0, ch), step = yl.step();  // y and dy in y's layout
        double s1 = 0, s2 = 0;
        for (index_t n = n0; n < n1; ++n) {
          const double g = double(dy[base + n * step]);
          s1 += g;
          s2 += g * double(y[base + n * step]);
        }
        part[2 * e] = s1;
        part[2 * e + 1] = s2;
      });
  Kokkos::parallel_for(
      "surro::op::instance_norm::backward_merge", Kokkos::RangePolicy<Exec>(exec, 0, c.slabs * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t ch = e % C, m = e / C;
        double s1 = 0, s2 = 0;
        for (index_t k = 0; k < K; ++k) {
          const index_t p = (m * K + k) * C + ch;
          s1 += part[2 * p];
          s2 += part[2 * p + 1];
        }
        st[2 * e] = s1 / double(N);
        st[2 * e + 1] = s2 / double(N);
      });
  instance_norm_impl::elementwise<instance_norm_impl::InputGrad, Exec, Real>(
      exec, "surro::op::instance_norm::backward_x", c, y, rstd, dy, dx, (const double*)st);
}

#if SURRO_OP_DEVICE_BUILD
template struct InstanceNormWorkspace<HostExec>;
template struct InstanceNormWorkspace<ExecSpace>;
#else
template struct InstanceNormWorkspace<HostExec>;
#endif

#define SURRO_X(Exec, Real)                                                                         \
  template void instance_norm_forward<Exec, Real>(const Exec&, const InstanceNormWorkspace<Exec>&,  \
                                                  const Real*, Real*, Real*);                       \
  template void instance_norm_backward<Exec, Real>(const Exec&, const InstanceNormWorkspace<Exec>&, \
                                                   const Real*, const Real*, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
