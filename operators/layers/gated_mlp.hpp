#pragma once
// gated_mlp: graph-physics' GatedMLP (`build_gated_mlp`) on channel-last rows, composed of
// existing layers:
//
//   n = rms_norm(x)                         its own RMSNorm, scale (D)
//   h = n W_in^T + b_in                     one linear D -> 2 F: rows [0, F) are graph-physics'
//                                           first Linear(D, F), rows [F, 2 F) its second
//   g = gelu(h[:, :F]) h[:, F:]             geglu (operators/layers/geglu.hpp), F = mult D
//   y = g W_out^T + b_out                   linear F -> D
//
// Stacking the two Linear(D, F) into one (2F, D) weight makes them one GEMM and puts their outputs
// in geglu's (R, 2F) layout. torch initializes each half with U(+-1/sqrt(D)); the stacked
// initialization draws from the same distribution. No residual: the caller adds y to its stream.
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/layers/linear.hpp"
#include "operators/layers/rms_norm.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <string>

namespace surro::op {

struct GatedMlpCfg {
  int dim = 0;   // D
  int mult = 3;  // F = mult D (graph-physics: 3)
  double eps = 1e-8;
  int hidden() const { return mult * dim; }
};

// Adds prefix.norm.scale (D), prefix.in.weight (2F, D), prefix.in.bias (2F), prefix.out.weight
// (D, F), prefix.out.bias (D).
void gated_mlp_register(ParamTable& table, const std::string& prefix, const GatedMlpCfg& cfg);

// The two linears' workspaces (one shared GEMM handle) for R rows.
template <class Exec>
struct GatedMlpWorkspace {
  GatedMlpWorkspace(const gemm::Gemm<Exec>& shared, const GatedMlpCfg& cfg, index_t rows);
  GatedMlpCfg cfg;
  index_t rows;
  LinearWorkspace<Exec> in, out;
};

template <class Real>
struct GatedMlpParams {
  Real *scale, *w_in, *b_in, *w_out, *b_out;  // (D), (2F, D), (2F), (D, F), (D)
};

// Saved by forward for backward (caller-owned, planned).
template <class Real>
struct GatedMlpSaved {
  Real* rms;     // (R)
  Real* normed;  // (R, D)
  Real* hidden;  // (R, 2F)
  Real* gated;   // (R, F)
};

// Backward scratch (caller-owned).
template <class Real>
struct GatedMlpScratch {
  Real* dgated;             // (R, F)
  Real* dhidden;            // (R, 2F)
  Real* dnormed;            // (R, D)
  Real* partial = nullptr;  // (column_sum_scratch(R, max(D, 2F))) or null: the parameter sums' scratch
};

// scale = 1; both linears torch's nn.Linear default from Philox(seed), streams `stream` .. `stream + 3`.
template <class Exec, class Real>
void gated_mlp_init(const Exec& exec, const GatedMlpCfg& cfg, const GatedMlpParams<Real>& p,
                    std::uint64_t seed, std::uint64_t stream);

// y must not alias x or the saved buffers.
template <class Exec, class Real>
void gated_mlp_forward(const Exec& exec, const GatedMlpWorkspace<Exec>& ws,
                       const GatedMlpParams<const Real>& p, const Real* x /* (R, D) */,
                       const GatedMlpSaved<Real>& saved, Real* y /* (R, D) */);

// Every parameter gradient accumulated (+=) into grads (none null); dx overwritten (may be null).
template <class Exec, class Real>
void gated_mlp_backward(const Exec& exec, const GatedMlpWorkspace<Exec>& ws,
                        const GatedMlpParams<const Real>& p, const Real* x /* (R, D) saved input */,
                        const GatedMlpSaved<Real>& saved, const Real* dy /* (R, D) */,
                        const GatedMlpScratch<Real>& scratch, const GatedMlpParams<Real>& grads,
                        Real* dx /* (R, D) */);

}  // namespace surro::op
