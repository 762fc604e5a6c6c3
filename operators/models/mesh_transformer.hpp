#pragma once
// Mesh graph transformer (graph-physics' EncodeTransformDecode, Garnier et al. arXiv 2508.18051;
// reference notes models.md §3.2, mesh-models.md §1) on a GraphBatch (operators/graph_batch.hpp).
//
//   x (V, Cin) node fields (normalized), channel-last; node types come from the batch
//   encoder: h0 = RMSNorm(MLP([x, one_hot(node_type, 9)]))      MLP: 4 linears, ReLU between
//   L pre-norm blocks:
//     h += Proj(MaskedMHA(q, k, v)),  q, k, v = Linear(d, d)(RMSNorm(h))   mask: the batch's
//       (with rope: q and k rotated by the node positions, layers/mesh_rope.hpp; no parameters)
//     h += GatedMLP(RMSNorm(h))                                           GatedMLP has its own RMSNorm
//   decoder: y = MLP(h) (V, Cout)                                         4 linears, ReLU between, no norm
//
// Parameters (Cin = 2 fields + 9 one-hot = 11 inputs, Cout = 2): 6d^2 + 21d + 2 + L (13d^2 + 14d).
// Buffers are planned once for a GraphBatchCapacity: per block the stream h_l, the two norms'
// outputs and RMS, q, k, v, the attention probabilities (nnz, H), the attention output and the
// GatedMLP's saved tensors; backward scratch is shared by the blocks, and so is the attention's
// long-row scratch (masked_attention_long_scratch for the capacity). An inference instance keeps
// one set of block buffers and two streams.
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/graph_batch.hpp"
#include "operators/layers/masked_attention.hpp"
#include "operators/layers/mesh_rope.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace surro::op {

struct MeshTransformerCfg {
  int in_channels = 2;   // Cin node fields (the one-hot node type is appended by the model)
  int out_channels = 2;  // Cout
  int dim = 128;         // d
  int heads = 4;         // H (divides d)
  int layers = 15;       // L
  int gated_mult = 3;    // GatedMLP hidden = 3 d
  HeadLayout layout = HeadLayout::interleaved;  // graph-physics' (N, head_dim, H) view
  // Optional rotary encoding of q and k from the node positions (layers/mesh_rope.hpp).
  bool rope = false;
  int dims = 2;                 // spatial dimension of the positions (bound from the data)
  double rope_length = 1.0;     // the domain's size, in the positions' unit
  double rope_max_freq = 64.0;  // the fastest pair's frequency relative to the slowest
  gemm::Options gemm;
  int encoder_inputs() const { return in_channels + 9; }
  MeshRopeCfg rope_cfg() const { return MeshRopeCfg{dim, heads, dims, layout, rope_length, rope_max_freq}; }
};

// Throws (usage) naming the field when the config is unusable.
void mesh_transformer_validate(const MeshTransformerCfg& cfg);
// Registers every parameter under "mesh_transformer.*": encoder.linear{0..3}.{weight,bias},
// encoder.norm.scale, block{l}.attn_norm.scale, block{l}.attn.{q,k,v,proj}.{weight,bias},
// block{l}.mlp_norm.scale, block{l}.mlp.{norm.scale,in.*,out.*}, decoder.linear{0..3}.*.
void mesh_transformer_register(ParamTable& table, const MeshTransformerCfg& cfg);
// torch's defaults: Linear U(+-1/sqrt(fan_in)) with stream = the weight's slot, RMSNorm scales 1.
template <class Exec, class Real>
void mesh_transformer_init(const Exec& exec, const MeshTransformerCfg& cfg, const ParamTable& table,
                           Real* params /* (table.size()) */, std::uint64_t seed);

template <class Exec, class Real>
class MeshTransformer {
 public:
  // Plans every buffer for batches up to `capacity`: with backward's and every block's saved
  // activations when training; otherwise forward only, one set of block buffers and two streams
  // shared by the blocks (backward then throws).
  MeshTransformer(const Exec& exec, const MeshTransformerCfg& cfg, const ParamTable& table,
                  const GraphBatchCapacity& capacity, bool training = true);
  ~MeshTransformer();
  MeshTransformer(const MeshTransformer&) = delete;
  MeshTransformer& operator=(const MeshTransformer&) = delete;

  // x (V, Cin) -> y (V, Cout), V = batch.nodes(). Saves what backward needs.
  void forward(const Exec& exec, const Real* params, const GraphBatch<Exec>& batch, const Real* x, Real* y);
  // dy (V, Cout); grads (table.size()) accumulated; dx (V, Cin) overwritten, may be null. Uses the
  // activations of the last forward on the same batch.
  void backward(const Exec& exec, const Real* params, const GraphBatch<Exec>& batch, const Real* dy,
                Real* grads, Real* dx);

  const MeshTransformerCfg& cfg() const { return m_cfg; }
  bool training() const;
  std::size_t planned_scalars() const;

 private:
  struct State;
  MeshTransformerCfg m_cfg;
  GraphBatchCapacity m_cap;
  std::unique_ptr<State> m_state;
};

}  // namespace surro::op
