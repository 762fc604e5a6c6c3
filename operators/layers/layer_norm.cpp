#include "operators/layers/layer_norm.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/param_init.hpp"
#include "operators/layers/row_policy.hpp"

#include <cmath>

namespace surro::op {

void layer_norm_register(ParamTable& table, const std::string& prefix, const LayerNormCfg& cfg) {
  SURRO_REQUIRE(cfg.dim > 0, prefix << ": layer_norm dim = " << cfg.dim << ": expected positive");
  table.add(prefix + ".weight", {cfg.dim});
  table.add(prefix + ".bias", {cfg.dim});
}

template <class Exec, class Real>
void layer_norm_init(const Exec& exec, const LayerNormCfg& cfg, Real* gamma, Real* beta) {
  init_constant(exec, cfg.dim, 1.0, gamma);
  init_constant(exec, cfg.dim, 0.0, beta);
}

namespace layer_norm_impl {

template <class Real>
KOKKOS_INLINE_FUNCTION Real inv_sqrt(Real v) {
  if constexpr (std::is_same_v<Real, float>)
    return 1.0f / ::sqrtf(v);
  else
    return 1.0 / ::sqrt(v);
}

// One row per vector (row_policy.hpp): two-pass mean and variance, then the affine output.
template <class Exec, class Real>
struct Forward {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real *gamma, *beta, *x;  // (D), (D), (R, D)
  Real *y, *mean, *rstd;         // (R, D), (R), (R)
  index_t rows;
  int dim;
  Real eps;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t r = row_index(team);
    if (r >= rows) return;
    const Real* xr = x + r * dim;
    Real s = 0, v = 0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, dim), [&](const int c, Real& acc) { acc += xr[c]; }, s);
    const Real mu = s / Real(dim);
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, dim),
        [&](const int c, Real& acc) {
          const Real d = xr[c] - mu;
          acc += d * d;
        },
        v);
    const Real rs = inv_sqrt(v / Real(dim) + eps);
    // y may alias x: the reductions above are complete in every lane (they end in a broadcast), and
    // each lane reads x(r, c) before writing y(r, c) for its own c.
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, dim),
                         [&](const int c) { y[r * dim + c] = (xr[c] - mu) * rs * gamma[c] + beta[c]; });
    Kokkos::single(Kokkos::PerThread(team), [&]() {
      mean[r] = mu;
      rstd[r] = rs;
    });
  }
};

// One row per vector: dx = rstd (g - mean(g) - xhat mean(g xhat)), g = gamma dy.
template <class Exec, class Real>
struct BackwardX {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real *gamma, *x, *mean, *rstd, *dy;  // (D), (R, D), (R), (R), (R, D)
  Real* dx;                                  // (R, D)
  index_t rows;
  int dim;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t r = row_index(team);
    if (r >= rows) return;
    const Real mu = mean[r], rs = rstd[r];
    const Real *xr = x + r * dim, *dyr = dy + r * dim;
    Real s1 = 0, s2 = 0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, dim), [&](const int c, Real& acc) { acc += gamma[c] * dyr[c]; }, s1);
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, dim),
        [&](const int c, Real& acc) { acc += gamma[c] * dyr[c] * (xr[c] - mu) * rs; }, s2);
    const Real m1 = s1 / Real(dim), m2 = s2 / Real(dim);
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, dim), [&](const int c) {
      dx[r * dim + c] = rs * (gamma[c] * dyr[c] - m1 - (xr[c] - mu) * rs * m2);
    });
  }
};

// The terms of the parameter sums for column_sums: dy xhat and dy.
template <class Real>
struct DyXhat {
  const Real *dy, *x, *mean, *rstd;
  int dim;
  KOKKOS_INLINE_FUNCTION Real operator()(const index_t r, const int c) const {
    return dy[r * dim + c] * (x[r * dim + c] - mean[r]) * rstd[r];
  }
};

}  // namespace layer_norm_impl

template <class Exec, class Real>
void layer_norm_forward(const Exec& exec, const LayerNormCfg& cfg, index_t rows, const Real* gamma,
                        const Real* beta, const Real* x, Real* y, Real* mean, Real* rstd) {
  ScopedRegion region("surro::op::layer_norm::forward");
  profile::add_work("surro::op::layer_norm::forward", (2.0 * rows * cfg.dim + 2.0 * rows) * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::layer_norm::forward", row_policy(exec, rows),
      layer_norm_impl::Forward<Exec, Real>{gamma, beta, x, y, mean, rstd, rows, cfg.dim, Real(cfg.eps)});
}

template <class Exec, class Real>
void layer_norm_backward(const Exec& exec, const LayerNormCfg& cfg, index_t rows, const Real* gamma,
                         const Real* x, const Real* mean, const Real* rstd, const Real* dy, Real* dgamma,
                         Real* dbeta, Real* dx, Real* partial) {
  ScopedRegion region("surro::op::layer_norm::backward");
  if (dx)  // x and dy in, dx out
    profile::add_work("surro::op::layer_norm::backward_x", (3.0 * rows * cfg.dim + 2.0 * rows) * sizeof(Real));
  // The parameter sums: block-parallel with a scratch, else one team per channel.
  if (dgamma)
    column_sums(exec, "surro::op::layer_norm::backward_gamma", rows, cfg.dim,
                layer_norm_impl::DyXhat<Real>{dy, x, mean, rstd, cfg.dim}, partial, dgamma,
                2.0 * sizeof(Real) + 2.0 * sizeof(Real) / cfg.dim);
  if (dbeta)
    column_sums(exec, "surro::op::layer_norm::backward_beta", rows, cfg.dim, ColumnOf<Real>{dy, cfg.dim},
                partial, dbeta);
  if (dx)
    Kokkos::parallel_for("surro::op::layer_norm::backward_x", row_policy(exec, rows),
                         layer_norm_impl::BackwardX<Exec, Real>{gamma, x, mean, rstd, dy, dx, rows, cfg.dim});
}

#define SURRO_X(Exec, Real)                                                                                \
  template void layer_norm_init<Exec, Real>(const Exec&, const LayerNormCfg&, Real*, Real*);               \
  template void layer_norm_forward<Exec, Real>(const Exec&, const LayerNormCfg&, index_t, const Real*,     \
                                               const Real*, const Real*, Real*, Real*, Real*);             \
  template void layer_norm_backward<Exec, Real>(const Exec&, const LayerNormCfg&, index_t, const Real*,    \
                                                const Real*, const Real*, const Real*, const Real*, Real*, \
                                                Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
