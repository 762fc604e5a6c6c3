#include "operators/loss.hpp"

#include "core/error.hpp"
#include "core/reduce.hpp"
#include "core/timer.hpp"

#include <cmath>

namespace surro::op {

namespace loss_impl {

// One team per sample: two team reductions (||d||^2, ||y||^2), then the team writes the sample's
// gradient and returns the sample's relative error; the samples' errors are summed in the fixed
// order of core/reduce.hpp. A sample with a zero target adds +inf (its gradient is left 0), which
// the host reports; this keeps the call free of allocations.
template <class Exec, class Real>
double rel_l2(const Exec& exec, double scale, index_t B, index_t n, const Real* x, const Real* y, Real* dx) {
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  return reduce::ordered_team_sum(
      exec, "surro::op::rel_l2_loss", B, KOKKOS_LAMBDA(const Member& team, const index_t b)->double {
        const Real* xb = x + b * n;  // (n)
        const Real* yb = y + b * n;  // (n)
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
        return ny > 0.0 ? scale * nd / ny : HUGE_VAL;
      });
}

template <class Exec, class Real>
double mse(const Exec& exec, index_t count, const Real* x, const Real* y, Real* dx) {
  const double inv = 1.0 / static_cast<double>(count);
  const double total = reduce::ordered_sum(
      exec, "surro::op::mse_loss", count, KOKKOS_LAMBDA(const index_t i)->double {
        const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        if (dx) dx[i] = static_cast<Real>(2.0 * inv * d);
        return d * d;
      });
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

LossKind parse_loss_kind(const std::string& name) {
  if (name == "rel_l2") return LossKind::rel_l2;
  if (name == "mse" || name == "normalized_mse") return LossKind::mse;
  SURRO_THROW(ErrorKind::usage, "loss \"" << name << "\": expected rel_l2, mse or normalized_mse");
}

const char* to_string(LossKind kind) {
  return kind == LossKind::rel_l2 ? "rel_l2" : "mse";
}

namespace loss_impl {

// Masked relative L2 per sample: one team per sample over its rows [off[b], off[b + 1]), the
// samples' errors summed in core/reduce.hpp's fixed order.
template <class Exec>
double masked_rel_l2(const Exec& exec, int B, const index_t* off, index_t n, const int* mask, const float* x,
                     const float* y, float* dx) {
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  return reduce::ordered_team_sum(
      exec, "surro::op::row_loss::rel_l2", B, KOKKOS_LAMBDA(const Member& team, const index_t b)->double {
        const index_t first = off[b] * n, count = (off[b + 1] - off[b]) * n;
        double dd = 0.0, yy = 0.0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, count),
            [&](const index_t k, double& s) {
              const index_t i = first + k;
              if (mask && !mask[i / n]) return;
              const double d = double(x[i]) - double(y[i]);
              s += d * d;
            },
            dd);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, count),
            [&](const index_t k, double& s) {
              const index_t i = first + k;
              if (mask && !mask[i / n]) return;
              s += double(y[i]) * double(y[i]);
            },
            yy);
        const double nd = ::sqrt(dd), ny = ::sqrt(yy);
        if (dx) {
          const double g = (nd > 0.0 && ny > 0.0) ? 1.0 / (nd * ny) : 0.0;
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, count), [&](const index_t k) {
            const index_t i = first + k;
            dx[i] = (mask && !mask[i / n]) ? 0.0f : float(g * (double(x[i]) - double(y[i])));
          });
        }
        return ny > 0.0 ? nd / ny : HUGE_VAL;
      });
}

// Masked, weighted MSE over (rows, n).
template <class Exec>
double masked_mse(const Exec& exec, index_t rows, index_t n, const int* mask, const float* w, const float* x,
                  const float* y, float* dx) {
  index_t kept = rows;
  if (mask) {
    kept = 0;
    Kokkos::parallel_reduce(
        "surro::op::row_loss::kept", Kokkos::RangePolicy<Exec>(exec, 0, rows),
        KOKKOS_LAMBDA(const index_t r, index_t& acc) { acc += mask[r] ? 1 : 0; }, kept);
  }
  SURRO_REQUIRE(kept > 0, "mse loss: no row of the batch is in the loss mask (no predicted node)");
  const double inv = 1.0 / (double(kept) * double(n));
  const double total = reduce::ordered_sum(
      exec, "surro::op::row_loss::mse", rows * n, KOKKOS_LAMBDA(const index_t i)->double {
        const bool keep = !mask || mask[i / n];
        const double wi = w ? double(w[i % n]) : 1.0;
        const double d = keep ? double(x[i]) - double(y[i]) : 0.0;
        if (dx) dx[i] = float(2.0 * inv * wi * d);
        return wi * d * d;
      });
  return total * inv;
}

}  // namespace loss_impl

template <class Exec>
RowLoss<Exec>::RowLoss(int max_samples)
    : m_max_samples(max_samples),
      m_offsets("surro::op::row_loss::offsets", std::size_t(max_samples) + 1),
      m_offsets_host("surro::op::row_loss::offsets_host", std::size_t(max_samples) + 1) {}

template <class Exec>
double RowLoss<Exec>::compute(const Exec& exec, LossKind kind, const Batch<Exec>& batch, index_t n,
                              const float* weights, const float* pred, const float* target, float* dpred) {
  ScopedRegion region("surro::op::row_loss");
  const int B = batch.samples;
  SURRO_REQUIRE(B > 0 && n > 0, "row loss: " << B << " samples of rows of " << n << ": expected positive");
  if (B > m_max_samples) {
    m_max_samples = B;
    m_offsets =
        View1<index_t, typename Exec::memory_space>("surro::op::row_loss::offsets", std::size_t(B) + 1);
    m_offsets_host = View1<index_t, HostMem>("surro::op::row_loss::offsets_host", std::size_t(B) + 1);
  }
  const int* mask = batch.loss_mask();
  if (!mask && !weights) {  // grids: the plain forms, bit for bit
    return kind == LossKind::rel_l2
               ? rel_l2_loss<Exec, float>(exec, Reduction::sum, B, n, pred, target, dpred)
               : mse_loss<Exec, float>(exec, B, n, pred, target, dpred);
  }
  if (kind == LossKind::mse)
    return loss_impl::masked_mse(exec, batch.rows(), n, mask, weights, pred, target, dpred);
  for (int b = 0; b <= B; ++b) m_offsets_host(b) = batch.offset(b);
  Kokkos::deep_copy(exec, Kokkos::subview(m_offsets, std::make_pair(0, B + 1)),
                    Kokkos::subview(m_offsets_host, std::make_pair(0, B + 1)));
  const double total = loss_impl::masked_rel_l2(exec, B, m_offsets.data(), n, mask, pred, target, dpred);
  if (std::isinf(total))
    SURRO_THROW(ErrorKind::runtime,
                "rel_l2 loss: a sample of the batch has an all-zero target on its "
                "predicted rows; use loss mse");
  return total;
}

template class RowLoss<ExecSpace>;
#ifdef KOKKOS_ENABLE_CUDA
template class RowLoss<HostExec>;
#endif

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
