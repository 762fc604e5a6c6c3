#include "operators/layers/instance_norm.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <cmath>

namespace surro::op {

namespace instance_norm_impl {

void check(const InstanceNormCfg& c) {
  SURRO_REQUIRE(c.slabs > 0 && c.points > 0 && c.channels > 0,
                "instance_norm: slabs " << c.slabs << ", points " << c.points << ", channels " << c.channels
                                        << ": expected positive");
}

}  // namespace instance_norm_impl

// One thread per (m, c), looping over the points: consecutive threads read consecutive channels.
// Accumulation in double keeps float statistics exact to a few ulp whatever N.
template <class Exec, class Real>
void instance_norm_forward(const Exec& exec, const InstanceNormCfg& cfg, const Real* x, Real* y, Real* rstd) {
  ScopedRegion region("surro::op::instance_norm::forward");
  instance_norm_impl::check(cfg);
  const index_t N = cfg.points, C = cfg.channels;
  const double eps = cfg.eps;
  Kokkos::parallel_for(
      "surro::op::instance_norm::forward", Kokkos::RangePolicy<Exec>(exec, 0, cfg.slabs * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t m = e / C, c = e % C;
        const Real* xs = x + m * N * C + c;
        double s = 0;
        for (index_t n = 0; n < N; ++n) s += double(xs[n * C]);
        const double mu = s / double(N);
        double v = 0;
        for (index_t n = 0; n < N; ++n) {
          const double d = double(xs[n * C]) - mu;
          v += d * d;
        }
        const double rs = 1.0 / ::sqrt(v / double(N) + eps);
        Real* ys = y + m * N * C + c;
        for (index_t n = 0; n < N; ++n) ys[n * C] = Real((double(xs[n * C]) - mu) * rs);
        rstd[e] = Real(rs);
      });
}

template <class Exec, class Real>
void instance_norm_backward(const Exec& exec, const InstanceNormCfg& cfg, const Real* y, const Real* rstd,
                            const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::instance_norm::backward");
  instance_norm_impl::check(cfg);
  const index_t N = cfg.points, C = cfg.channels;
  Kokkos::parallel_for(
      "surro::op::instance_norm::backward", Kokkos::RangePolicy<Exec>(exec, 0, cfg.slabs * C),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t m = e / C, c = e % C, base = m * N * C + c;
        double s1 = 0, s2 = 0;
        for (index_t n = 0; n < N; ++n) {
          const double g = double(dy[base + n * C]);
          s1 += g;
          s2 += g * double(y[base + n * C]);
        }
        const double m1 = s1 / double(N), m2 = s2 / double(N), rs = double(rstd[e]);
        for (index_t n = 0; n < N; ++n) {
          const index_t i = base + n * C;
          dx[i] = Real(rs * (double(dy[i]) - m1 - double(y[i]) * m2));
        }
      });
}

#define SURRO_X(Exec, Real)                                                                                \
  template void instance_norm_forward<Exec, Real>(const Exec&, const InstanceNormCfg&, const Real*, Real*, \
                                                  Real*);                                                  \
  template void instance_norm_backward<Exec, Real>(const Exec&, const InstanceNormCfg&, const Real*,       \
                                                   const Real*, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
