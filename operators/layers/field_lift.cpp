#include "operators/layers/field_lift.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/param_init.hpp"

namespace surro::op {

void field_lift_register(ParamTable& table, const std::string& prefix, const FieldLiftCfg& cfg) {
  SURRO_REQUIRE(cfg.fields > 0 && cfg.frames > 0 && cfg.channels > 0,
                prefix << ": field_lift (fields, frames, channels) = (" << cfg.fields << ", " << cfg.frames
                       << ", " << cfg.channels << "): expected positive");
  table.add(prefix + ".weight", {cfg.fields * cfg.channels});
  table.add(prefix + ".bias", {cfg.fields * cfg.channels});
}

template <class Exec, class Real>
void field_lift_init(const Exec& exec, const FieldLiftCfg& cfg, Real* w, Real* bias, std::uint64_t seed,
                     std::uint64_t stream) {
  const index_t n = index_t(cfg.fields) * cfg.channels;
  init_uniform(exec, n, 1.0, seed, stream, w);
  init_uniform(exec, n, 1.0, seed, stream + 1, bias);
}

template <class Exec, class Real>
void field_lift_forward(const Exec& exec, const FieldLiftCfg& cfg, int batch, index_t points, const Real* w,
                        const Real* bias, const Real* x, Real* y) {
  ScopedRegion region("surro::op::field_lift::forward");
  const index_t C = cfg.fields, T = cfg.frames, G = cfg.channels, N = points, K = C * G * T;
  Kokkos::parallel_for(
      "surro::op::field_lift::forward", Kokkos::RangePolicy<Exec>(exec, 0, index_t(batch) * K * N),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t n = e % N, k = (e / N) % K, b = e / (N * K);
        const index_t t = k % T, cj = k / T, c = cj / G;
        y[e] = w[cj] * x[(b * T * C + t * C + c) * N + n] + bias[cj];
      });
}

// dw(cj) += sum_{b, t, n} dy x, dbias(cj) += sum dy: one team per (c, j).
template <class Exec, class Real>
struct FieldLiftParamGrad {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real *x, *dy;
  Real *dw, *dbias;
  index_t B, C, T, G, N;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t cj = team.league_rank(), c = cj / G, K = C * G * T;
    Real sw = 0, sb = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, B * T * N),
        [&](const index_t q, Real& acc) {
          const index_t n = q % N, t = (q / N) % T, b = q / (N * T);
          acc += dy[(b * K + cj * T + t) * N + n] * x[(b * T * C + t * C + c) * N + n];
        },
        sw);
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, B * T * N),
        [&](const index_t q, Real& acc) {
          const index_t n = q % N, t = (q / N) % T, b = q / (N * T);
          acc += dy[(b * K + cj * T + t) * N + n];
        },
        sb);
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      dw[cj] += sw;
      dbias[cj] += sb;
    });
  }
};

template <class Exec, class Real>
void field_lift_backward(const Exec& exec, const FieldLiftCfg& cfg, int batch, index_t points, const Real* w,
                         const Real* x, const Real* dy, Real* dw, Real* dbias, Real* dx) {
  ScopedRegion region("surro::op::field_lift::backward");
  const index_t C = cfg.fields, T = cfg.frames, G = cfg.channels, N = points, K = C * G * T, B = batch;
  Kokkos::parallel_for("surro::op::field_lift::backward_params",
                       Kokkos::TeamPolicy<Exec>(exec, int(C * G), Kokkos::AUTO),
                       FieldLiftParamGrad<Exec, Real>{x, dy, dw, dbias, B, C, T, G, N});
  if (!dx) return;
  // dx(b, t C + c, n) = sum_j w(c G + j) dy(b, (c G + j) T + t, n)
  Kokkos::parallel_for(
      "surro::op::field_lift::backward_x", Kokkos::RangePolicy<Exec>(exec, 0, B * T * C * N),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t n = e % N, tc = (e / N) % (T * C), b = e / (N * T * C);
        const index_t t = tc / C, c = tc % C;
        Real s = 0;
        for (index_t j = 0; j < G; ++j) s += w[c * G + j] * dy[(b * K + (c * G + j) * T + t) * N + n];
        dx[e] = s;
      });
}

#define SURRO_X(Exec, Real)                                                                                  \
  template void field_lift_init<Exec, Real>(const Exec&, const FieldLiftCfg&, Real*, Real*, std::uint64_t,   \
                                            std::uint64_t);                                                  \
  template void field_lift_forward<Exec, Real>(const Exec&, const FieldLiftCfg&, int, index_t, const Real*,  \
                                               const Real*, const Real*, Real*);                             \
  template void field_lift_backward<Exec, Real>(const Exec&, const FieldLiftCfg&, int, index_t, const Real*, \
                                                const Real*, const Real*, Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
