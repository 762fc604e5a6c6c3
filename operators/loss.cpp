#include "operators/loss.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"

#include <cmath>

namespace surro::op {

namespace loss_impl {

// One kernel, one team per sample: two team reductions (||d||^2, ||y||^2), then the team writes
// the sample's gradient and one thread adds the sample's relative error to the league sum. A
// sample with a zero target adds +inf (its gradient is left 0), which the host reports; this
// keeps the call free of allocations.
template <class Exec, class Real>
double rel_l2(const Exec& exec, double scale, index_t B, index_t n, const Real* x, const Real* y, Real* dx) {
  using Policy = Kokkos::TeamPolicy<Exec>;
  using Member = typename Policy::member_type;
  double total = 0.0;
  Kokkos::parallel_reduce(
      "surro::op::rel_l2_loss", Policy(exec, static_cast<int>(B), Kokkos::AUTO),
      KOKKOS_LAMBDA(const Member& team, double& acc) {
        const index_t b = team.league_rank();
        const Real* xb = x + b * n;
        const Real* yb = y + b * n;
        double dd = 0.0, yy = 0.0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, n),
            [&](const index_t i, double& s) {
              const double d = static_cast<double>(xb[i]) - static_cast<double>(yb[i]);
              s += d * d;
            },
            dd);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, n),
            [&](const index_t i, double& s) {
              const double t = yb[i];
              s += t * t;
            },
            yy);
        const double nd = ::sqrt(dd), ny = ::sqrt(yy);
        if (dx) {
          const double g = (nd > 0.0 && ny > 0.0) ? scale / (nd * ny) : 0.0;
          Real* db = dx + b * n;
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](const index_t i) {
            db[i] = static_cast<Real>(g * (static_cast<double>(xb[i]) - static_cast<double>(yb[i])));
          });
        }
        Kokkos::single(Kokkos::PerTeam(team), [&]() { acc += ny > 0.0 ? scale * nd / ny : HUGE_VAL; });
      },
      total);
  return total;
}

template <class Exec, class Real>
double mse(const Exec& exec, index_t count, const Real* x, const Real* y, Real* dx) {
  const double inv = 1.0 / static_cast<double>(count);
  double total = 0.0;
  Kokkos::parallel_reduce(
      "surro::op::mse_loss", Kokkos::RangePolicy<Exec>(exec, 0, count),
      KOKKOS_LAMBDA(const index_t i, double& acc) {
        const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        if (dx) dx[i] = static_cast<Real>(2.0 * inv * d);
        acc += d * d;
      },
      total);
  return total * inv;
}

}  // namespace loss_impl

template <class Exec, class Real>
double rel_l2_loss(const Exec& exec, Reduction reduction, index_t B, index_t n, const Real* pred,
                   const Real* target, Real* dpred) {
  ScopedRegion region("surro::op::rel_l2_loss");
  SURRO_REQUIRE(B > 0 && n > 0, "rel_l2_loss: B = " << B << ", n = " << n << ": expected positive extents");
  const double scale = reduction == Reduction::mean ? 1.0 / static_cast<double>(B) : 1.0;
  const double total = loss_impl::rel_l2(exec, scale, B, n, pred, target, dpred);
  if (std::isinf(total))
    SURRO_THROW(ErrorKind::runtime,
                "rel_l2_loss: the relative error is infinite: a sample of the batch has an "
                "all-zero target (or the prediction overflows)");
  return total;
}

template <class Exec, class Real>
double mse_loss(const Exec& exec, index_t B, index_t n, const Real* pred, const Real* target, Real* dpred) {
  ScopedRegion region("surro::op::mse_loss");
  SURRO_REQUIRE(B > 0 && n > 0, "mse_loss: B = " << B << ", n = " << n << ": expected positive extents");
  return loss_impl::mse(exec, B * n, pred, target, dpred);
}

#define SURRO_INSTANTIATE_LOSS(Exec, Real)                                                       \
  template double rel_l2_loss<Exec, Real>(const Exec&, Reduction, index_t, index_t, const Real*, \
                                          const Real*, Real*);                                   \
  template double mse_loss<Exec, Real>(const Exec&, index_t, index_t, const Real*, const Real*, Real*);

SURRO_INSTANTIATE_LOSS(ExecSpace, float)
SURRO_INSTANTIATE_LOSS(ExecSpace, double)
#ifdef KOKKOS_ENABLE_CUDA
SURRO_INSTANTIATE_LOSS(HostExec, float)
SURRO_INSTANTIATE_LOSS(HostExec, double)
#endif

}  // namespace surro::op
