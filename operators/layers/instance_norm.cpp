#include "operators/layers/instance_norm.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <climits>
#include <cmath>
#include <string>

namespace surro::op {

template <class Exec>
InstanceNormWorkspace<Exec>::InstanceNormWorkspace(const Exec& exec, const InstanceNormCfg& c) : cfg(c) {
  SURRO_REQUIRE(c.slabs > 0 && c.points > 0 && c.channels > 0 && c.chunk > 0,
                "instance_norm: slabs " << c.slabs << ", points " << c.points << ", channels " << c.channels
                                        << ", chunk " << c.chunk << ": expected positive");
  using V = View1<double, typename Exec::memory_space>;
  partial = make_scratch<V>(exec, "surro::op::instance_norm::partial", c.slabs * c.chunks() * c.channels * 2);
  stats = make_scratch<V>(exec, "surro::op::instance_norm::stats", c.slabs * c.channels * 2);
}

namespace instance_norm_impl {

// The two elementwise passes over (M, N, C), W consecutive elements per thread: W = 4 where C is a
// multiple of 4 (the 4 then share a slab and have consecutive channels), else 1. The index division
// is paid once per W elements, in 32 bits where the elements fit (for_each_index; the normalize
// pass ran at 39% of the copy bandwidth on an H200 with one 64-bit division per element,
// bench/RESULTS.md 2026-12-07), and a thread has W loads in flight: all of them are issued before
// the first store, which may alias them (y = x, dx = dy). Element i uses the slab-channel statistic
// (i / (N C)) C + i % C.
template <class Real, int W>
struct Normalize {  // y = (x - mean) rstd, both in double
  const Real* x;
  Real* y;
  const double* st;  // (M C, 2): mean, rstd
  index_t nc, c;     // N C, C
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I g) const {
    const I i = g * I(W);
    const index_t s = index_t((i / I(nc)) * I(c) + i % I(c)), e = index_t(i);
    Real v[W];
    for (int k = 0; k < W; ++k) v[k] = x[e + k];
    for (int k = 0; k < W; ++k) y[e + k] = Real((double(v[k]) - st[2 * (s + k)]) * st[2 * (s + k) + 1]);
  }
};

template <class Real, int W>
struct InputGrad {  // dx = rstd (dy - mean(dy) - y mean(dy y))
  const Real *y, *rstd, *dy;
  Real* dx;
  const double* st;  // (M C, 2): mean(dy), mean(dy y)
  index_t nc, c;     // N C, C
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I g) const {
    const I i = g * I(W);
    const index_t s = index_t((i / I(nc)) * I(c) + i % I(c)), e = index_t(i);
    Real vy[W], vg[W];
    for (int k = 0; k < W; ++k) {
      vy[k] = y[e + k];
      vg[k] = dy[e + k];
    }
    for (int k = 0; k < W; ++k)
      dx[e + k] =
          Real(double(rstd[s + k]) * (double(vg[k]) - st[2 * (s + k)] - double(vy[k]) * st[2 * (s + k) + 1]));
  }
};

// Runs F<Real, 4> over the groups of 4 where C allows, else F<Real, 1>; the int index is used while
// the first element of the last group fits one.
template <template <class, int> class F, class Exec, class Real, class... Args>
void elementwise(const Exec& exec, const std::string& label, index_t total, index_t channels, Args... args) {
  if (channels % 4 == 0)
    for_each_index(exec, label, total / 4, F<Real, 4>{args...}, index_t(INT_MAX) / 4);
  else
    for_each_index(exec, label, total, F<Real, 1>{args...});
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
  // profile of bench/RESULTS.md 2026-12-07, session 18; this form is not yet measured).
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
      exec, "surro::op::instance_norm::forward_normalize", c.slabs * N * C, C, x, y, (const double*)st, N * C,
      C);
}

template <class Exec, class Real>
void instance_norm_backward(const Exec& exec, const InstanceNormWorkspace<Exec>& ws, const Real* y,
                            const Real* rstd, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::instance_norm::backward");
  const InstanceNormCfg& c = ws.cfg;
  const index_t N = c.points, C = c.channels, S = c.chunk, K = c.chunks();
  double* part = ws.partial.data();
  double* st = ws.stats.data();
  const double values = double(c.slabs) * N * C;
  profile::add_work("surro::op::instance_norm::backward_partial", 2.0 * values * sizeof(Real));
  profile::add_work("surro::op::instance_norm::backward_x", 3.0 * values * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::instance_norm::backward_partial", Kokkos::RangePolicy<Exec>(exec, 0, c.slabs * K * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t ch = e % C, k = (e / C) % K, m = e / (C * K);
        const index_t n0 = k * S, n1 = n0 + S < N ? n0 + S : N, base = m * N * C + ch;
        double s1 = 0, s2 = 0;
        for (index_t n = n0; n < n1; ++n) {
          const double g = double(dy[base + n * C]);
          s1 += g;
          s2 += g * double(y[base + n * C]);
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
      exec, "surro::op::instance_norm::backward_x", c.slabs * N * C, C, y, rstd, dy, dx, (const double*)st,
      N * C, C);
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
