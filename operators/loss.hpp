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

namespace surro::op {

enum class Reduction { sum, mean };

// pred, target, dpred: (B, n), n = every non-batch element of a sample (C * Nx * ...).
template <class Exec, class Real>
double rel_l2_loss(const Exec& exec, Reduction reduction, index_t B, index_t n, const Real* pred,
                   const Real* target, Real* dpred);

template <class Exec, class Real>
double mse_loss(const Exec& exec, index_t B, index_t n, const Real* pred, const Real* target, Real* dpred);

}  // namespace surro::op
