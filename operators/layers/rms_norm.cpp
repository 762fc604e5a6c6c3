#include "operators/layers/rms_norm.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/param_init.hpp"
#include "operators/layers/row_policy.hpp"

#include <cmath>
#include <type_traits>

namespace surro::op {

void rms_norm_register(ParamTable& table, const std::string& prefix, const RmsNormCfg& cfg) {
  SURRO_REQUIRE(cfg.dim > 0, prefix << ": rms_norm dim = " << cfg.dim << ": expected positive");
  table.add(prefix + ".scale", {cfg.dim});
}

template <class Exec, class Real>
void rms_norm_init(const Exec& exec, const RmsNormCfg& cfg, Real* scale) {
  init_constant(exec, cfg.dim, 1.0, scale);
}

namespace rms_norm_impl {

template <class Real>
KOKKOS_INLINE_FUNCTION Real sqrt_of(Real v) {
  if constexpr (std::is_same_v<Real, float>)
    return ::sqrtf(v);
  else
    return ::sqrt(v);
}

// One row per vector (row_policy.hpp): the sum of squares, then the scaled output.
template <class Exec, class Real>
struct Forward {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real *scale, *x;  // (D), (R, D)
  Real *y, *rms;          // (R, D), (R)
  index_t rows;
  int dim;
  Real eps;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t r = row_index(team);
    if (r >= rows) return;
    const Real* xr = x + r * dim;
    Real ss = 0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, dim), [&](const int c, Real& acc) { acc += xr[c] * xr[c]; }, ss);
    const Real rm = sqrt_of(ss / Real(dim));
    const Real inv = Real(1) / (rm + eps);
    // y may alias x: the sum is complete in every lane (it ends in a broadcast), and each lane reads
    // x(r, c) before writing y(r, c) for its own c.
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, dim),
                         [&](const int c) { y[r * dim + c] = scale[c] * xr[c] * inv; });
    Kokkos::single(Kokkos::PerThread(team), [&]() { rms[r] = rm; });
  }
};

// One row per vector: dx = (g - x <g, x> / (D rms d)) / d, g = scale dy.
template <class Exec, class Real>
struct BackwardX {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real *scale, *x, *rms, *dy;  // (D), (R, D), (R), (R, D)
  Real* dx;                          // (R, D)
  index_t rows;
  int dim;
  Real eps;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t r = row_index(team);
    if (r >= rows) return;
    const Real *xr = x + r * dim, *dyr = dy + r * dim;
    const Real rm = rms[r], d = rm + eps;
    Real gx = 0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(team, dim),
        [&](const int c, Real& acc) { acc += scale[c] * dyr[c] * xr[c]; }, gx);
    const Real k = rm > Real(0) ? gx / (Real(dim) * rm * d) : Real(0);
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, dim),
                         [&](const int c) { dx[r * dim + c] = (scale[c] * dyr[c] - xr[c] * k) / d; });
  }
};

// The term of dscale for column_sums: dy x / (rms + eps).
template <class Real>
struct DyXOverRms {
  const Real *dy, *x, *rms;
  int dim;
  Real eps;
  KOKKOS_INLINE_FUNCTION Real operator()(const index_t r, const int c) const {
    return dy[r * dim + c] * x[r * dim + c] / (rms[r] + eps);
  }
};

}  // namespace rms_norm_impl

template <class Exec, class Real>
void rms_norm_forward(const Exec& exec, const RmsNormCfg& cfg, index_t rows, const Real* scale, const Real* x,
                      Real* y, Real* rms) {
  ScopedRegion region("surro::op::rms_norm::forward");
  if (rows == 0) return;
  profile::add_work("surro::op::rms_norm::forward", (2.0 * rows * cfg.dim + rows + cfg.dim) * sizeof(Real));
  Kokkos::parallel_for("surro::op::rms_norm::forward", row_policy(exec, rows),
                       rms_norm_impl::Forward<Exec, Real>{scale, x, y, rms, rows, cfg.dim, Real(cfg.eps)});
}

template <class Exec, class Real>
void rms_norm_backward(const Exec& exec, const RmsNormCfg& cfg, index_t rows, const Real* scale,
                       const Real* x, const Real* rms, const Real* dy, Real* dscale, Real* dx,
                       Real* partial) {
  ScopedRegion region("surro::op::rms_norm::backward");
  if (rows == 0) return;
  if (dscale)  // block-parallel with a scratch, else one team per channel
    column_sums(exec, "surro::op::rms_norm::backward_scale", rows, cfg.dim,
                rms_norm_impl::DyXOverRms<Real>{dy, x, rms, cfg.dim, Real(cfg.eps)}, partial, dscale,
                2.0 * sizeof(Real) + double(sizeof(Real)) / cfg.dim);
  if (dx) {  // x and dy in, dx out
    profile::add_work("surro::op::rms_norm::backward_x", (3.0 * rows * cfg.dim + rows) * sizeof(Real));
    Kokkos::parallel_for(
        "surro::op::rms_norm::backward_x", row_policy(exec, rows),
        rms_norm_impl::BackwardX<Exec, Real>{scale, x, rms, dy, dx, rows, cfg.dim, Real(cfg.eps)});
  }
}

#define SURRO_X(Exec, Real)                                                                         \
  template void rms_norm_init<Exec, Real>(const Exec&, const RmsNormCfg&, Real*);                   \
  template void rms_norm_forward<Exec, Real>(const Exec&, const RmsNormCfg&, index_t, const Real*,  \
                                             const Real*, Real*, Real*);                            \
  template void rms_norm_backward<Exec, Real>(const Exec&, const RmsNormCfg&, index_t, const Real*, \
                                              const Real*, const Real*, const Real*, Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
