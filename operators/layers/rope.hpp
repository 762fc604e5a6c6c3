#pragma once
// rope: rotary positional embedding along one axis (FactFormer's RotaryEmbedding + apply_rotary_pos_emb),
// applied to M independent (n, Dk) blocks (e.g. M = B H heads of n rows along the axis):
//
//   theta(i, k) = coord_i (scale / min_freq) inv_freq_k,  inv_freq_k = 10000^(-2k / Dk),  k < Dk/2
//   y(i, k)        = x(i, k) cos theta(i, k) - x(i, Dk/2 + k) sin theta(i, k)
//   y(i, Dk/2 + k) = x(i, Dk/2 + k) cos theta(i, k) + x(i, k) sin theta(i, k)
//
// i.e. x cos(theta) + rotate_half(x) sin(theta) with theta duplicated over the two halves. The
// reference uses min_freq = 1/64, scale = 1 and the axis coordinates linspace(0, L, n). Backward is
// the inverse rotation (theta -> -theta); the table (cos, sin) is built once per axis.
#include "core/types.hpp"

namespace surro::op {

struct RopeCfg {
  int dim = 0;  // Dk, even
  double min_freq = 1.0 / 64;
  double scale = 1.0;
};

// table(i, k) = (cos theta(i, k), sin theta(i, k)), theta computed in double.
template <class Exec, class Real>
void rope_table(const Exec& exec, const RopeCfg& cfg, int n, const double* coords /* (n) */,
                Real* table /* (n, Dk/2, 2) */);

// y may alias x.
template <class Exec, class Real>
void rope_forward(const Exec& exec, const RopeCfg& cfg, index_t blocks, int n,
                  const Real* table /* (n, Dk/2, 2) */, const Real* x /* (M, n, Dk) */,
                  Real* y /* (M, n, Dk) */);

// dx = R(-theta) dy, overwritten; may alias dy.
template <class Exec, class Real>
void rope_backward(const Exec& exec, const RopeCfg& cfg, index_t blocks, int n,
                   const Real* table /* (n, Dk/2, 2) */, const Real* dy /* (M, n, Dk) */,
                   Real* dx /* (M, n, Dk) */);

}  // namespace surro::op
