#pragma once
// fourier_features: GaussianFourierFeatureTransform (Tancik et al.) of point coordinates,
//
//   gamma(n, f) = sin(2 pi sum_k p(n, k) Bm(k, f)),   gamma(n, F + f) = cos(2 pi sum_k p(n, k) Bm(k, f))
//
// p (N, d) coordinates, Bm (d, F) the Gaussian matrix (randn * scale at initialization; IFactFormer
// keeps it fixed: a frozen parameter). The phase is formed and its sine/cosine taken in double
// (phases reach thousands of radians). With Real = float the inputs p and Bm are float already:
// a coordinate rounded to float (relative 6e-8) moves a phase of 2e3 radians by ~1e-4, which is
// the ~1e-5 output difference from torch measured by bench/peers/ifactformer.py on the channel
// configuration; a double coordinate buffer would remove it.
// Backward (both optional): with t = 2 pi (cos phase dgamma_f - sin phase dgamma_{F+f}),
//   dBm(k, f) += sum_n p(n, k) t(n, f),   dp(n, k) = sum_f Bm(k, f) t(n, f).
#include "core/types.hpp"
#include "operators/params.hpp"

#include <string>

namespace surro::op {

struct FourierFeaturesCfg {
  int dims = 0;      // d
  int features = 0;  // F (the output has 2F channels)
  double scale = 1;  // Bm ~ N(0, scale^2)
};

// Adds prefix.B (d, F) as a frozen parameter (checkpointed, never trained).
void fourier_features_register(ParamTable& table, const std::string& prefix, const FourierFeaturesCfg& cfg);

// Bm(k, f) = scale * N(0, 1), element k F + f from Philox(seed) stream `stream` (torch.randn(d, F) * scale).
template <class Exec, class Real>
void fourier_features_init(const Exec& exec, const FourierFeaturesCfg& cfg, Real* bm /* (d, F) */,
                           std::uint64_t seed, std::uint64_t stream);

template <class Exec, class Real>
void fourier_features_forward(const Exec& exec, const FourierFeaturesCfg& cfg, index_t points,
                              const Real* bm /* (d, F) */, const Real* p /* (N, d) */, Real* y /* (N, 2F) */);

// dbm accumulated and dp overwritten; either may be null.
template <class Exec, class Real>
void fourier_features_backward(const Exec& exec, const FourierFeaturesCfg& cfg, index_t points,
                               const Real* bm /* (d, F) */, const Real* p /* (N, d) */,
                               const Real* dy /* (N, 2F) */, Real* dbm /* (d, F) += ; may be null */,
                               Real* dp /* (N, d); may be null */);

}  // namespace surro::op
