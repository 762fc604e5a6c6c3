#pragma once
// gelu: the exact (erf) GELU, elementwise over any activation buffer of n values:
//   y = x Phi(x) = x/2 (1 + erf(x / sqrt 2)),   dy/dx = Phi(x) + x phi(x),  phi(x) = exp(-x^2/2)/sqrt(2 pi)
// torch.nn.functional.gelu's default (approximate='none').
#include "core/types.hpp"

#include <cmath>
#include <type_traits>

namespace surro::op {

template <class Real>
KOKKOS_INLINE_FUNCTION Real gelu_erf(Real v) {
  if constexpr (std::is_same_v<Real, float>)
    return ::erff(v);
  else
    return ::erf(v);
}
template <class Real>
KOKKOS_INLINE_FUNCTION Real gelu_exp(Real v) {
  if constexpr (std::is_same_v<Real, float>)
    return ::expf(v);
  else
    return ::exp(v);
}

template <class Real>
KOKKOS_INLINE_FUNCTION Real gelu_value(Real x) {
  constexpr Real inv_sqrt2 = Real(0.70710678118654752440084436210485);
  return Real(0.5) * x * (Real(1) + gelu_erf(x * inv_sqrt2));
}

template <class Real>
KOKKOS_INLINE_FUNCTION Real gelu_derivative(Real x) {
  constexpr Real inv_sqrt2 = Real(0.70710678118654752440084436210485);
  constexpr Real inv_sqrt_2pi = Real(0.39894228040143267793994605993438);
  return Real(0.5) * (Real(1) + gelu_erf(x * inv_sqrt2)) + x * inv_sqrt_2pi * gelu_exp(Real(-0.5) * x * x);
}

// y = gelu(x); y may alias x.
template <class Exec, class Real>
void gelu_forward(const Exec& exec, index_t n, const Real* x /* (n) */, Real* y /* (n) */);

// dx = gelu'(x) dy (overwritten; may alias dy; null: nothing to do).
template <class Exec, class Real>
void gelu_backward(const Exec& exec, index_t n, const Real* x /* (n) saved input */, const Real* dy /* (n) */,
                   Real* dx /* (n) */);

}  // namespace surro::op
