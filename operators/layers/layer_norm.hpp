#pragma once
// layer_norm: torch.nn.LayerNorm(D) over the last (channel) axis of R rows,
//
//   y(r, c) = xhat(r, c) gamma(c) + beta(c),   xhat = (x - mean_r) rstd_r,
//   mean_r = 1/D sum_c x(r, c),   rstd_r = 1 / sqrt(1/D sum_c (x(r, c) - mean_r)^2 + eps)
//
// (biased variance, eps = 1e-5 as torch). Forward saves mean and rstd per row for backward:
//   dx = rstd (g - mean_c(g) - xhat mean_c(g xhat)),  g = gamma dy;
//   dgamma += sum_r dy xhat;  dbeta += sum_r dy.
#include "core/types.hpp"
#include "operators/params.hpp"

#include <string>

namespace surro::op {

struct LayerNormCfg {
  int dim = 0;  // D
  double eps = 1e-5;
};

// Adds prefix.weight (D) (gamma) and prefix.bias (D) (beta), torch's names.
void layer_norm_register(ParamTable& table, const std::string& prefix, const LayerNormCfg& cfg);

// gamma = 1, beta = 0 (torch's initialization).
template <class Exec, class Real>
void layer_norm_init(const Exec& exec, const LayerNormCfg& cfg, Real* gamma /* (D) */, Real* beta /* (D) */);

// x and y may alias (y = x in place).
template <class Exec, class Real>
void layer_norm_forward(const Exec& exec, const LayerNormCfg& cfg, index_t rows, const Real* gamma /* (D) */,
                        const Real* beta /* (D) */, const Real* x /* (R, D) */, Real* y /* (R, D) */,
                        Real* mean /* (R) saved */, Real* rstd /* (R) saved */);

// dx overwritten (may be null; must not alias x or dy); dgamma, dbeta accumulated. With `partial`
// (column_sum_scratch(R, D) scalars, operators/layers/column_sums.hpp) the parameter sums run as
// block-parallel column sums, which a GPU needs when R is large (mesh nodes, edges); without it,
// one team per channel.
template <class Exec, class Real>
void layer_norm_backward(const Exec& exec, const LayerNormCfg& cfg, index_t rows, const Real* gamma /* (D) */,
                         const Real* x /* (R, D) saved input */, const Real* mean /* (R) */,
                         const Real* rstd /* (R) */, const Real* dy /* (R, D) */, Real* dgamma /* (D) += */,
                         Real* dbeta /* (D) += */, Real* dx /* (R, D) overwritten; may be null */,
                         Real* partial = nullptr /* (column_sum_scratch(R, D)) or null */);

}  // namespace surro::op
