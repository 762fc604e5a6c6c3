#pragma once
// Training losses over a batch of predictions. Every loss returns its value (double, on the host,
// which fences `exec`) and overwrites dpred = dLoss/dpred; dpred may be null (evaluation only).
//
//   rel_l2     : sum_b ||pred_b - target_b||_2 / ||target_b||_2            (FNO LpLoss.rel,
//                size_average=False); rel_l2_mean divides by B (IFactFormer's averaged form).
//                d/dpred_b = (pred_b - target_b) / (||pred_b - target_b|| ||target_b||); a sample
//                with pred_b == target_b has gradient 0.
//   mse        : sum over all elements (pred - target)^2 / (B n); d/dpred = 2 (pred - target) / (B n).
// Sums are accumulated in double whatever Real is. A sample whose target norm is 0 aborts
// rel_l2 with Error(runtime), as its relative error is undefined.
#include "core/types.hpp"
#include "operators/batch.hpp"

#include <string>

namespace surro::op {

enum class Reduction { sum, mean };

// pred, target, dpred: (B, n), n = every non-batch element of a sample (C * Nx * ...).
template <class Exec, class Real>
double rel_l2_loss(const Exec& exec, Reduction reduction, index_t B, index_t n, const Real* pred,
                   const Real* target, Real* dpred);

template <class Exec, class Real>
double mse_loss(const Exec& exec, index_t B, index_t n, const Real* pred, const Real* target, Real* dpred);

// The loss the trainer takes over a Batch's rows (operators/batch.hpp), for grids and meshes:
//   rel_l2  sum over samples b of ||pred_b - target_b|| / ||target_b||, each norm over the sample's
//           rows that the batch's loss mask keeps (every row on grids);
//   mse     sum over kept rows r and row elements i of w_i (pred - target)^2, divided by
//           (kept rows * n): the mean squared error per element. With w = 1 / scale_y^2 of the
//           target normalizer this is the MSE of the NORMALIZED target, MeshGraphNets' loss (which
//           sums over the C components instead of averaging: a constant factor C).
// n = the elements of a row (Cout * P); w: (n) on the device, or null for 1. Grids without a mask
// or weights go through rel_l2_loss / mse_loss above, so their values are unchanged.
enum class LossKind { rel_l2, mse };
LossKind parse_loss_kind(const std::string& name);  // "rel_l2" | "mse" | "normalized_mse" (mse)
const char* to_string(LossKind kind);

template <class Exec>
class RowLoss {
 public:
  // Buffers for up to max_samples samples; a larger batch grows them once (on first use).
  explicit RowLoss(int max_samples = 1);
  // pred, target, dpred: (rows, n); dpred may be null. Error(runtime) for a sample whose kept
  // target norm is 0 (rel_l2) or a batch with no kept row.
  double compute(const Exec& exec, LossKind kind, const Batch<Exec>& batch, index_t n, const float* weights,
                 const float* pred, const float* target, float* dpred);

 private:
  int m_max_samples;
  View1<index_t, typename Exec::memory_space> m_offsets;  // (B + 1) the batch's row offsets
  View1<index_t, HostMem> m_offsets_host;                   // (B + 1)
};

}  // namespace surro::op
