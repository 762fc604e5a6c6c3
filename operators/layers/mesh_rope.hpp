#pragma once
// mesh_rope: rotary position encoding of attention queries and keys from node coordinates (the mesh
// transformer's optional RoPE; graph-physics' use_rope_embeddings, with the positions scaled to the
// domain as the reference notes advise). Axial: each head's Dh channels are split into `dims`
// groups of Dh / dims, one per coordinate axis a, and each group into m = Dh / (2 dims) rotated
// pairs (j, j + m) of its channels j < m:
//
//   theta(v, a, k) = pi (pos(v, a) / length) f_k,   f_k = max_freq^(k / (m - 1)) (f_0 = 1 when m = 1)
//   y_j     = x_j cos theta - x_{j+m} sin theta
//   y_{j+m} = x_{j+m} cos theta + x_j sin theta
//
// Rotating q_i by theta(i) and k_j by theta(j) makes q_i . k_j depend on the positions only through
// pos(i) - pos(j): translation invariant, and the slowest pair turns by at most pi across a domain of
// size `length`, so relative offsets inside the domain are never aliased. Backward is the inverse
// rotation. The channel of head h's component j is j H + h (interleaved) or h Dh + j (blocked).
#include "core/types.hpp"
#include "operators/layers/masked_attention.hpp"

namespace surro::op {

struct MeshRopeCfg {
  int dim = 0;    // D = H Dh
  int heads = 1;  // H
  int dims = 2;   // spatial dimension of the positions
  HeadLayout layout = HeadLayout::interleaved;
  double length = 1.0;     // the domain's size in the positions' unit
  double max_freq = 64.0;  // f of the fastest pair: its period is 2 length / max_freq
  int pairs() const { return heads > 0 && dims > 0 ? dim / heads / (2 * dims) : 0; }  // m
};

// Error(usage) naming the field: Dh must be a positive multiple of 2 dims, length and max_freq > 0.
void mesh_rope_validate(const MeshRopeCfg& cfg);

// table (V, dims, m, 2) = (cos theta, sin theta), theta in double.
template <class Exec, class Real>
void mesh_rope_table(const Exec& exec, const MeshRopeCfg& cfg, index_t nodes, const double* positions /* (V, dims) */,
                     Real* table /* (V, dims, m, 2) */);

// x (V, D) rotated in place by theta (inverse: by -theta, the backward of the forward rotation).
template <class Exec, class Real>
void mesh_rope_apply(const Exec& exec, const MeshRopeCfg& cfg, index_t nodes, const Real* table /* (V, dims, m, 2) */,
                     Real* x /* (V, D) */, bool inverse);

}  // namespace surro::op
