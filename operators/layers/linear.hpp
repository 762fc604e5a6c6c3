#pragma once
// linear: a dense layer over the channel axis of an activation with R rows (grid points) per sample,
//
//   y(b, r, o) = sum_i W(o, i) x(b, r, i) + bias(o)          W (Cout, Cin), bias (Cout)
//
// where x and y may each be stored in one of three layouts, given by a group count G (G divides C):
//
//   G = 1        (B, R, C)        channel-last: the transformer's layout
//   G = C        (B, C, R)        channel-first: the models' external x and y (operators/model.hpp)
//   1 < G < C    (B, G, R, C/G)   group-major: attention heads, channel g * C/G + c stored at (g, r, c)
//
// Each call is one GEMM or one short loop of strided-batched GEMMs (core/gemm.hpp); the layouts are
// read and written through the GEMM's transpose flags and strides, never by a transpose kernel:
//
//   x \ y         channel-last                 channel-first               group-major
//   channel-last  1 GEMM (B R x Cin) W^T       B-batched y_b = W x_b^T     1 call of B x G products
//   channel-first B-batched y_b = x_b^T W^T    B-batched (pointwise_linear) -
//   group-major   G batched calls, summed      -                           -
//
// The other pairs are refused. A layer used as torch's nn.Linear(Cin, Cout) on channel-last data
// holds the same W (Cout, Cin) and bias (Cout) as torch does.
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace surro::op {

struct LinearCfg {
  int c_in = 0, c_out = 0;
  bool bias = true;
};

// The activation shape one workspace serves: `batch` samples of `rows` rows; x in `in_groups`
// groups, y in `out_groups` (1: channel-last, C: channel-first, else group-major; see above).
struct LinearShape {
  int batch = 1;
  index_t rows = 0;
  int in_groups = 1, out_groups = 1;
};

// Adds prefix.weight (Cout, Cin) and, with cfg.bias, prefix.bias (Cout). Throws on extents <= 0.
void linear_register(ParamTable& table, const std::string& prefix, const LinearCfg& cfg);

// The GEMM handle and the validated shape; built once per (config, shape). The second form shares
// an existing handle (a model with many linear layers needs one cuBLAS handle, not one per layer).
template <class Exec>
struct LinearWorkspace {
  LinearWorkspace(const Exec& exec, const LinearCfg& cfg, const LinearShape& shape);
  LinearWorkspace(const gemm::Gemm<Exec>& shared, const LinearCfg& cfg, const LinearShape& shape);
  LinearCfg cfg;
  LinearShape shape;
  gemm::Gemm<Exec> gemm;
};

// PyTorch's nn.Linear default: W and bias ~ U(-1/sqrt(Cin), 1/sqrt(Cin)) from Philox(seed), stream
// `stream` for W (element order (o, i)) and `stream + 1` for the bias.
template <class Exec, class Real>
void linear_init(const Exec& exec, const LinearCfg& cfg, Real* w /* (Cout, Cin) */,
                 Real* bias /* (Cout), null without bias */, std::uint64_t seed, std::uint64_t stream);

// An elementwise function applied to the layer's output in the same pass as the bias.
enum class Activation { none, relu };

// y = act(x W^T + bias) in the workspace's layouts. x and y must not overlap. A channel-last y
// (out_groups 1) takes the bias and the activation in the GEMM's epilogue (cuBLASLt on CUDA: y is
// written once). Otherwise, without an activation, the bias is written first and the GEMM adds to
// it (beta = 1); with one, the GEMM writes y and one pass adds the bias and applies the activation.
// A caller's backward takes relu'(z) = [y > 0] from y.
template <class Exec, class Real>
void linear_forward(const Exec& exec, const LinearWorkspace<Exec>& ws, const Real* w /* (Cout, Cin) */,
                    const Real* bias /* (Cout) or null */,
                    const Real* x /* (B, R, Cin) in in_groups layout */,
                    Real* y /* (B, R, Cout) in out_groups layout */, Activation act = Activation::none);

// Scalars of linear_backward's `partial` for this workspace: column_sum_scratch(B R, Cout)
// (operators/layers/column_sums.hpp) for a block-parallel dbias when dy is plain rows (out_groups
// 1) and the layer has a bias, and B Cout Cin for the per-sample weight gradients when B > 1 and a
// side is not channel-last; the larger of the two (they are used one after the other), 0 if neither.
template <class Exec>
std::size_t linear_backward_scratch(const LinearWorkspace<Exec>& ws);

// dw += sum_{b,r} dy x^T; dbias += sum_{b,r} dy; dx = dy W (overwritten; null: not needed).
// partial: null, or linear_backward_scratch(ws) scalars. With it, dbias of plain-row dy is summed
// block-parallel (what a GPU needs when B R is large) and, for B > 1 samples in layouts other than
// channel-last on both sides, the B per-sample weight gradients are one GEMM call into it and then
// one sum in sample order, instead of B calls one after another (each small: the IFactFormer's
// head-major layers gave a GPU B calls of G products of 96 x 96 over 16,896 rows each). Without
// it, dbias sums one team per channel and the samples take one call each.
template <class Exec, class Real>
void linear_backward(const Exec& exec, const LinearWorkspace<Exec>& ws, const Real* w /* (Cout, Cin) */,
                     const Real* x /* (B, R, Cin) saved input, in_groups layout */,
                     const Real* dy /* (B, R, Cout), out_groups layout */, Real* dw /* (Cout, Cin) += */,
                     Real* dbias /* (Cout) += ; null without bias */,
                     Real* dx /* (B, R, Cin) in_groups layout, overwritten; may be null */,
                     Real* partial = nullptr /* (column_sum_scratch(B R, Cout)) or null */);

}  // namespace surro::op
