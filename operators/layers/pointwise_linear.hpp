#pragma once
// pointwise_linear: a 1x1 convolution over channels (FNO's `W`, Conv{1,2,3}d(Cin, Cout, 1)).
//
//   y(b, o, n) = sum_i W(o, i) x(b, i, n) + bias(o)        n over the R = Nx*Ny*... grid points
//
// One strided-batched GEMM per call: y_b (Cout x R) = W (Cout x Cin) . x_b (Cin x R), with W
// broadcast over the batch (stride 0). Activations are channel-first, so x_b is a row-major
// (Cin, R) matrix and no transpose is needed.
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <string>

namespace surro::op {

struct PointwiseLinearCfg {
  int c_in = 0, c_out = 0;
  bool bias = true;
};

// Adds prefix.weight (Cout, Cin) and, with cfg.bias, prefix.bias (Cout). Throws on extents <= 0.
void pointwise_linear_register(ParamTable& table, const std::string& prefix, const PointwiseLinearCfg& cfg);

// Holds the GEMM handle and the activation shape; built once per (config, batch, R).
template <class Exec>
struct PointwiseLinearWorkspace {
  PointwiseLinearWorkspace(const Exec& exec, const PointwiseLinearCfg& cfg, int batch, index_t points,
                           gemm::Options precision = {});
  PointwiseLinearCfg cfg;
  int batch = 0;
  index_t points = 0;  // R
  gemm::Gemm<Exec> gemm;
  // Backward's partial sums, summed in a fixed order afterwards so results do not depend on
  // scheduling: per-sample weight gradients (B, Cout, Cin) and per-chunk bias gradients
  // (Cout, chunks); bias_chunks is a multiple of B (chunks never span samples). Sized in doubles,
  // read as Real.
  int bias_chunks = 1;
  View1<double, typename Exec::memory_space> partial;
};

// PyTorch's Conv default initialization: W and bias ~ U(-1/sqrt(Cin), 1/sqrt(Cin)), drawn from
// Philox(seed) with streams `stream` (W, element order (o, i)) and `stream + 1` (bias).
template <class Exec, class Real>
void pointwise_linear_init(const Exec& exec, const PointwiseLinearCfg& cfg, Real* w /* (Cout, Cin) */,
                           Real* bias /* (Cout), null without bias */, std::uint64_t seed,
                           std::uint64_t stream);

// y = W x + bias; with accumulate, y += W x + bias instead (the FNO layer's sum with its spectral
// branch in the GEMM's own store: no separate output and no pass adding it, y read once more).
template <class Exec, class Real>
void pointwise_linear_forward(const Exec& exec, const PointwiseLinearWorkspace<Exec>& ws,
                              const Real* w /* (Cout, Cin) */, const Real* bias /* (Cout) or null */,
                              const Real* x /* (B, Cin, R) */, Real* y /* (B, Cout, R) */,
                              bool accumulate = false);

// y = W x + bias (with accumulate: y += W x + bias), then a = gelu(y) (operators/layers/gelu.hpp):
// the GEMM first, then the bias and the GELU in one pass over y. Against pointwise_linear_forward
// and gelu_forward, one launch fewer and the bias pass over y fewer (without accumulate also the
// GEMM's read of y). a may alias y (inference: the pre-activation is not kept); otherwise y keeps
// W x + bias [+ y], written back by the same pass (so one read of y fewer, not a whole pass), which
// backward needs: gelu_backward on it, then
// pointwise_linear_backward, as after the two calls this replaces. The bias is added after the
// GEMM's sum instead of before it, so results differ from that pair's in the last bits.
template <class Exec, class Real>
void pointwise_linear_gelu_forward(const Exec& exec, const PointwiseLinearWorkspace<Exec>& ws,
                                   const Real* w /* (Cout, Cin) */, const Real* bias /* (Cout) or null */,
                                   const Real* x /* (B, Cin, R) */, Real* y /* (B, Cout, R) */,
                                   Real* a /* (B, Cout, R); may alias y */, bool accumulate = false);

// dw += sum_b dy_b x_b^T; dbias += sum_{b,n} dy; dx = W^T dy (overwritten; null: not needed).
template <class Exec, class Real>
void pointwise_linear_backward(const Exec& exec, const PointwiseLinearWorkspace<Exec>& ws,
                               const Real* w /* (Cout, Cin) */, const Real* x /* (B, Cin, R) saved input */,
                               const Real* dy /* (B, Cout, R) */, Real* dw /* (Cout, Cin) += */,
                               Real* dbias /* (Cout) += ; null without bias */,
                               Real* dx /* (B, Cin, R) overwritten; may be null */);

}  // namespace surro::op
