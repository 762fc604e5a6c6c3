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

template <class Exec, class Real>
class ReluMlp {
 public:
  using Mem = typename Exec::memory_space;
  ReluMlp(const gemm::Gemm<Exec>& gemm, const ParamTable& table, const std::string& prefix,
          std::vector<int> widths, index_t capacity_rows);
  void forward(const Exec& exec, const Real* params, index_t rows, const Real* x /* (R, w_0) */,
               Real* y /* (R, w_n) */);
  // Parameter gradients accumulated (+=); dx (R, w_0) overwritten, may be null. Uses the last
  // forward's activations; x is that forward's input.
  void backward(const Exec& exec, const Real* params, index_t rows, const Real* x /* (R, w_0) */,
                const Real* dy /* (R, w_n) */, Real* grads, Real* dx /* (R, w_0) */);
  const std::vector<int>& widths() const { return m_widths; }
  std::size_t planned_scalars() const;

 private:
  gemm::Gemm<Exec> m_gemm;
  std::vector<int> m_widths;
  index_t m_cap;
  std::vector<std::size_t> m_w, m_b;    // slot offsets of each linear's weight and bias
  std::vector<View1<Real, Mem>> m_act;  // a_i (R cap, w_i), i = 1 .. n-1 (index 0 unused)
  View1<Real, Mem> m_g0, m_g1;          // backward ping-pong (R cap, max w)
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
