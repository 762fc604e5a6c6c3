#include "operators/layers/fourier_features.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/param_init.hpp"

#include <cmath>

namespace surro::op {

void fourier_features_register(ParamTable& table, const std::string& prefix, const FourierFeaturesCfg& cfg) {
  SURRO_REQUIRE(cfg.dims > 0 && cfg.features > 0, prefix << ": fourier_features (d, F) = (" << cfg.dims
                                                         << ", " << cfg.features << "): expected positive");
  table.add_frozen(prefix + ".B", {cfg.dims, cfg.features});
}

template <class Exec, class Real>
void fourier_features_init(const Exec& exec, const FourierFeaturesCfg& cfg, Real* bm, std::uint64_t seed,
                           std::uint64_t stream) {
  init_normal(exec, index_t(cfg.dims) * cfg.features, cfg.scale, seed, stream, bm);
}

namespace fourier_impl {

// 2 pi sum_k p(n, k) Bm(k, f), in double.
template <class Real>
KOKKOS_INLINE_FUNCTION double phase(const Real* p, const Real* bm, index_t n, index_t f, int d, index_t F) {
  double t = 0;
  for (int k = 0; k < d; ++k) t += double(p[n * d + k]) * double(bm[k * F + f]);
  return 6.283185307179586476925286766559 * t;
}

// d loss / d phase(n, f) from the sine and cosine channels' gradients.
template <class Real>
KOKKOS_INLINE_FUNCTION double phase_grad(double t, const Real* dy, index_t n, index_t f, index_t F) {
  return ::cos(t) * double(dy[n * 2 * F + f]) - ::sin(t) * double(dy[n * 2 * F + F + f]);
}

}  // namespace fourier_impl

template <class Exec, class Real>
void fourier_features_forward(const Exec& exec, const FourierFeaturesCfg& cfg, index_t points, const Real* bm,
                              const Real* p, Real* y) {
  ScopedRegion region("surro::op::fourier_features::forward");
  const int d = cfg.dims;
  const index_t F = cfg.features;
  Kokkos::parallel_for(
      "surro::op::fourier_features::forward", Kokkos::RangePolicy<Exec>(exec, 0, points * F),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t n = e / F, f = e % F;
        const double t = fourier_impl::phase(p, bm, n, f, d, F);
        y[n * 2 * F + f] = Real(::sin(t));
        y[n * 2 * F + F + f] = Real(::cos(t));
      });
}

// dBm: one team per (k, f) reducing over the points; dp: one thread per (n, k) looping over f.
template <class Exec, class Real>
struct FourierGradB {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real *bm, *p, *dy;
  Real* dbm;
  index_t points, F;
  int d;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t kf = team.league_rank(), k = kf / F, f = kf % F;
    double sum = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, points),
        [&](const index_t n, double& acc) {
          const double g = fourier_impl::phase_grad(fourier_impl::phase(p, bm, n, f, d, F), dy, n, f, F);
          acc += double(p[n * d + k]) * g;
        },
        sum);
    Kokkos::single(Kokkos::PerTeam(team), [&]() { dbm[kf] += Real(6.283185307179586476925286766559 * sum); });
  }
};

template <class Exec, class Real>
void fourier_features_backward(const Exec& exec, const FourierFeaturesCfg& cfg, index_t points,
                               const Real* bm, const Real* p, const Real* dy, Real* dbm, Real* dp) {
  ScopedRegion region("surro::op::fourier_features::backward");
  const int d = cfg.dims;
  const index_t F = cfg.features;
  if (dbm)
    Kokkos::parallel_for("surro::op::fourier_features::backward_B",
                         Kokkos::TeamPolicy<Exec>(exec, int(d * F), Kokkos::AUTO),
                         FourierGradB<Exec, Real>{bm, p, dy, dbm, points, F, d});
  if (dp)
    Kokkos::parallel_for(
        "surro::op::fourier_features::backward_p", Kokkos::RangePolicy<Exec>(exec, 0, points * d),
        KOKKOS_LAMBDA(const index_t e) {
          const index_t n = e / d, k = e % d;
          double acc = 0;
          for (index_t f = 0; f < F; ++f) {
            const double g = fourier_impl::phase_grad(fourier_impl::phase(p, bm, n, f, d, F), dy, n, f, F);
            acc += double(bm[k * F + f]) * g;
          }
          dp[e] = Real(6.283185307179586476925286766559 * acc);
        });
}

#define SURRO_X(Exec, Real)                                                                            \
  template void fourier_features_init<Exec, Real>(const Exec&, const FourierFeaturesCfg&, Real*,       \
                                                  std::uint64_t, std::uint64_t);                       \
  template void fourier_features_forward<Exec, Real>(const Exec&, const FourierFeaturesCfg&, index_t,  \
                                                     const Real*, const Real*, Real*);                 \
  template void fourier_features_backward<Exec, Real>(const Exec&, const FourierFeaturesCfg&, index_t, \
                                                      const Real*, const Real*, const Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
