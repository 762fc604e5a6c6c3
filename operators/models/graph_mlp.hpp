#pragma once
// Shared pieces of the graph models (mesh_transformer, meshgraphnet): a ReLU MLP with planned
// activations and the elementwise steps between layers.
//
// ReluMlp with widths w_0 .. w_n is n linears, ReLU between them (none after the last):
//   a_0 = x (R, w_0);  a_i = relu(a_{i-1} W_{i-1}^T + b_{i-1}) (R, w_i), 0 < i < n;
//   y = a_{n-1} W_{n-1}^T + b_{n-1} (R, w_n).
// Parameters prefix.linear{i}.weight (w_{i+1}, w_i) and .bias (w_{i+1}). Forward keeps a_i (the
// post-ReLU activations, i = 1 .. n-1) for backward: relu'(z) = [a > 0]. Rows vary per call up to
// the planned capacity; a LinearWorkspace per call is only a shape over the shared GEMM handle.
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace surro::op {

// Initializes every tensor of `table` whose name starts with prefix, by its name: "*.scale"
// (RMSNorm) 1; "*norm.weight" / "*norm.bias" (LayerNorm) 1 / 0; other "*.weight" (Cout, Cin) and its
// "*.bias" torch's nn.Linear default U(+-1/sqrt(Cin)); stream = the tensor's slot index.
template <class Exec, class Real>
void graph_model_init(const Exec& exec, const ParamTable& table, const std::string& prefix,
                      Real* params /* (table.size()) */, std::uint64_t seed);

void relu_mlp_register(ParamTable& table, const std::string& prefix, const std::vector<int>& widths);

// Buffers: in training, a_1 .. a_{n-1} (R cap, w_i) each, saved for backward, and the bias
// gradients' column-sum partials (partial_scalars(); the caller's when it passes one); a scratch of
// scratch_scalars() (backward's ping-pong of layer-input gradients, or in inference the forward's
// ping-pong of activations, nothing saved). The scratch may be the caller's, shared by MLPs that never
// run at the same time (a model runs one MLP's forward or backward at a time).
template <class Exec, class Real>
class ReluMlp {
 public:
  using Mem = typename Exec::memory_space;
  // scratch: null to allocate one; else a buffer of at least scratch_scalars(widths, capacity_rows).
  // partial (training only): null to allocate one; else at least partial_scalars(widths, capacity_rows),
  // which may be shared with anything that does not run during this MLP's backward.
  ReluMlp(const gemm::Gemm<Exec>& gemm, const ParamTable& table, const std::string& prefix,
          std::vector<int> widths, index_t capacity_rows, bool training = true, Real* scratch = nullptr,
          Real* partial = nullptr);
  // 2 R cap (widest hidden width); 0 without hidden layers.
  static std::size_t scratch_scalars(const std::vector<int>& widths, index_t capacity_rows);
  // column_sum_scratch(R cap, widest of w_1 .. w_n): the bias gradients' partials.
  static std::size_t partial_scalars(const std::vector<int>& widths, index_t capacity_rows);
  void forward(const Exec& exec, const Real* params, index_t rows, const Real* x /* (R, w_0) */,
               Real* y /* (R, w_n) */);
  // Parameter gradients accumulated (+=); dx (R, w_0) overwritten, may be null. Uses the last
  // forward's activations; x is that forward's input. Training instances only.
  void backward(const Exec& exec, const Real* params, index_t rows, const Real* x /* (R, w_0) */,
                const Real* dy /* (R, w_n) */, Real* grads, Real* dx /* (R, w_0) */);

  // A caller that computes layer 0 itself (MeshGraphNet's edge MLP reads its gathered input from
  // node-level products): it writes z_0 = x W_0^T + b_0, with the ReLU when layers() > 1, into
  // first_output(y) (R, w_1), then calls forward_rest. backward_rest runs layers n-1 .. 1 and
  // returns dL/dz_0 (R, w_1) (the ReLU's derivative applied): dy itself when layers() == 1, else
  // in the scratch (valid until the scratch's next use). Layer 0's gradients are the caller's.
  Real* first_output(Real* y /* (R, w_n) */) const { return layers() > 1 ? m_act[1] : y; }
  void forward_rest(const Exec& exec, const Real* params, index_t rows, Real* y /* (R, w_n) */);
  const Real* backward_rest(const Exec& exec, const Real* params, index_t rows, const Real* dy /* (R, w_n) */,
                            Real* grads);

  std::size_t layers() const { return m_widths.size() - 1; }
  std::size_t weight_offset(std::size_t i) const { return m_w[i]; }  // linear i's (w_{i+1}, w_i)
  std::size_t bias_offset(std::size_t i) const { return m_b[i]; }
  const std::vector<int>& widths() const { return m_widths; }
  // Scalars this MLP allocated itself (saved activations; its scratch unless the caller's).
  std::size_t planned_scalars() const;

 private:
  void run_layers(const Exec& exec, const Real* params, index_t rows, std::size_t first, const Real* x,
                  Real* y);
  gemm::Gemm<Exec> m_gemm;
  std::vector<int> m_widths;
  index_t m_cap;
  bool m_training;
  std::vector<std::size_t> m_w, m_b;      // slot offsets of each linear's weight and bias
  std::vector<Real*> m_act;               // a_i (R cap, w_i), i = 1 .. n-1 (index 0 unused)
  Real *m_g0 = nullptr, *m_g1 = nullptr;  // backward ping-pong (R cap, widest hidden), in the scratch
  Real* m_partial = nullptr;              // (column_sum_scratch(R cap, widest w_1 .. w_n)), training
  std::vector<View1<Real, Mem>> m_owned;  // what this MLP allocated
};

// Elementwise steps (graph_mlp.cpp), all on R rows.
namespace graph_ops {
// out = a + b (out may alias a or b).
template <class Exec, class Real>
void add(const Exec& exec, index_t n, const Real* a, const Real* b, Real* out);
// out += a.
template <class Exec, class Real>
void add_into(const Exec& exec, index_t n, const Real* a, Real* out);
// y (R, ca + cb) = [a (R, ca), b (R, cb)]; b may be null with cb > 0 only for one_hot (below).
template <class Exec, class Real>
void concat(const Exec& exec, index_t rows, int ca, const Real* a, int cb, const Real* b, Real* y);
// y (R, c + 9) = [x (R, c), one_hot(node_type, 9)]
template <class Exec, class Real>
void concat_one_hot(const Exec& exec, index_t rows, int c, const Real* x, const int* node_type, Real* y);
// da (R, ca) = dy[:, :ca] (overwritten, or added when accumulate); db (R, cb) = dy[:, ca:] (null: skipped).
template <class Exec, class Real>
void split(const Exec& exec, index_t rows, int ca, int cb, const Real* dy, Real* da, bool accumulate,
           Real* db);
}  // namespace graph_ops

}  // namespace surro::op
