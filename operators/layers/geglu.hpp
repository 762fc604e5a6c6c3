#pragma once
// geglu: FactFormer's GeGELU over the last axis of R rows of 2L values:
//   y(r, c) = gelu(x(r, c)) x(r, L + c),   c < L      (gelu: the exact erf GELU, gelu.hpp)
//   dx(r, c) = gelu'(x(r, c)) x(r, L + c) dy(r, c),   dx(r, L + c) = gelu(x(r, c)) dy(r, c)
#include "core/types.hpp"

namespace surro::op {

template <class Exec, class Real>
void geglu_forward(const Exec& exec, index_t rows, int half, const Real* x /* (R, 2L) */,
                   Real* y /* (R, L) */);

// dx overwritten (null: nothing to do).
template <class Exec, class Real>
void geglu_backward(const Exec& exec, index_t rows, int half, const Real* x /* (R, 2L) saved input */,
                    const Real* dy /* (R, L) */, Real* dx /* (R, 2L) */);

}  // namespace surro::op
