#pragma once
// MeshGraphNet (Pfaff et al. 2021, DeepMind's meshgraphnets code; reference notes mesh-models.md §2,
// models.md §3.2) on a GraphBatch (operators/graph_batch.hpp): encode-process-decode.
//
//   x (V, Cin) node fields (normalized), channel-last; node types and positions come from the batch
//   edge features  ef (E, dim + 1) = [pos[sender] - pos[receiver], |pos[sender] - pos[receiver]|],
//                  standardized per channel with the training set's statistics when an edge
//                  normalizer is set (DeepMind's edge normalizer; surro fits it on the meshes)
//   encoder        h_0 = LN(MLP_v([x, one_hot(node_type, 9)])),  e_0 = LN(MLP_e(ef))
//   L unshared blocks:
//     m       = LN(MLP_edge([h_l(sender), h_l(receiver), e_l]))       (E, H)  graph_gather's order
//     a       = sum of m over the edges into each node                 (V, H)  graph_scatter_sum
//     h_{l+1} = h_l + LN(MLP_node([h_l, a])),   e_{l+1} = e_l + m
//   decoder        y = MLP_dec(h_L) (V, Cout), no LayerNorm
// Every MLP: `hidden_layers` hidden layers of H with ReLU (DeepMind: 2 of 128), LN = LayerNorm(H).
// CylinderFlow (Cin 2 + 9, edge input 3, Cout 2, H 128, L 15): 2,332,930 parameters.
// The edge MLP's first layer never forms the gathered input (E, 3H): with W_0 = [W_s, W_r, W_e],
//   [h(s), h(r), e] W_0^T = (h W_s^T)(s) + (h W_r^T)(r) + e W_e^T,
// two node-level GEMMs (V rows) and one edge-level GEMM, then a gather-add (backward: the edge
// gradient summed by sender and by receiver, node-level GEMMs again).
// Buffers are planned once for a GraphBatchCapacity. Training saves per block the MLPs' hidden
// activations, the pre-LN outputs with their mean/rstd, the summed messages a (V, H) and the streams
// h_l (V, H), e_l (E, H); everything else (the MLPs' backward scratch, messages, node inputs,
// gradients) is one set shared by the blocks. An inference instance saves nothing per block.
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/graph_batch.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace surro::op {

struct MeshGraphNetCfg {
  int in_channels = 2;    // Cin node fields (the one-hot node type is appended by the model)
  int out_channels = 2;   // Cout
  int dims = 2;           // spatial dimension: edge features dims + 1
  int hidden = 128;       // H
  int blocks = 15;        // L message-passing blocks (unshared)
  int hidden_layers = 2;  // hidden layers per MLP
  gemm::Options gemm;
  int node_inputs() const { return in_channels + 9; }
  int edge_inputs() const { return dims + 1; }
};

void meshgraphnet_validate(const MeshGraphNetCfg& cfg);
// Registers every parameter under "meshgraphnet.*": encoder.{node,edge}.linear{i}.{weight,bias},
// encoder.{node,edge}.norm.{weight,bias}, block{l}.{edge,node}.linear{i}.*, block{l}.{edge,node}.norm.*,
// decoder.linear{i}.*.
void meshgraphnet_register(ParamTable& table, const MeshGraphNetCfg& cfg);
// torch's defaults: Linear U(+-1/sqrt(fan_in)) with stream = the tensor's slot, LayerNorm 1 / 0.
template <class Exec, class Real>
void meshgraphnet_init(const Exec& exec, const MeshGraphNetCfg& cfg, const ParamTable& table,
                       Real* params /* (table.size()) */, std::uint64_t seed);

template <class Exec, class Real>
class MeshGraphNet {
 public:
  // training false: forward only (no activations kept per block; backward throws).
  MeshGraphNet(const Exec& exec, const MeshGraphNetCfg& cfg, const ParamTable& table,
               const GraphBatchCapacity& capacity, bool training = true);
  ~MeshGraphNet();
  MeshGraphNet(const MeshGraphNet&) = delete;
  MeshGraphNet& operator=(const MeshGraphNet&) = delete;

  // x (V, Cin) -> y (V, Cout), V = batch.nodes(). Saves what backward needs.
  void forward(const Exec& exec, const Real* params, const GraphBatch<Exec>& batch, const Real* x, Real* y);
  // dy (V, Cout); grads (table.size()) accumulated; dx (V, Cin) overwritten, may be null. Uses the
  // activations of the last forward on the same batch.
  void backward(const Exec& exec, const Real* params, const GraphBatch<Exec>& batch, const Real* dy,
                Real* grads, Real* dx);

  // Edge features become (ef - mean) / scale; mean, scale: (dims + 1) device pointers that must
  // outlive the model (null, null: raw features). Error when the channel count is not dims + 1.
  void set_edge_normalizer(const Real* mean, const Real* scale, int channels);

  const MeshGraphNetCfg& cfg() const { return m_cfg; }
  bool training() const;
  std::size_t planned_scalars() const;

 private:
  void block_forward(const Exec& exec, const Real* params, const GraphEdges& g, int l);
  void block_backward(const Exec& exec, const Real* params, const GraphEdges& g, int l, Real* grads);
  struct State;
  MeshGraphNetCfg m_cfg;
  GraphBatchCapacity m_cap;
  std::unique_ptr<State> m_state;
  const Real* m_edge_mean = nullptr;   // (dims + 1) or null
  const Real* m_edge_scale = nullptr;  // (dims + 1) or null
};

}  // namespace surro::op
