#pragma once
// field_lift: IFactFormer's first lifting step, torch's Conv2d(C, C G, 1, groups=C) on the window
// rearranged to (b, C, T, N): every field c is mapped by its own G weights and biases, shared over
// the T frames of the window. Input channels are frame-major (channel t C + c is field c at window
// step t, the data loader's order); the output is channel-first with channel (c G + j) T + t, the
// flattening of torch's (C G, T) so that the next step (a linear over all C G T channels, torch's
// Conv2d(C G, D, (T, 1))) uses torch's weight layout (D, C G, T):
//
//   y(b, (c G + j) T + t, n) = w(c G + j) x(b, t C + c, n) + bias(c G + j)
#include "core/types.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <string>

namespace surro::op {

struct FieldLiftCfg {
  int fields = 0;    // C
  int frames = 1;    // T
  int channels = 0;  // G per field
  int out_channels() const { return fields * channels * frames; }
};

// Adds prefix.weight (C G) and prefix.bias (C G) (torch's (C G, 1, 1, 1) weight, flattened).
void field_lift_register(ParamTable& table, const std::string& prefix, const FieldLiftCfg& cfg);

// torch's Conv2d default with fan_in = 1 (one input channel per group): U(-1, 1) for both,
// streams `stream` (weight) and `stream + 1` (bias).
template <class Exec, class Real>
void field_lift_init(const Exec& exec, const FieldLiftCfg& cfg, Real* w /* (C G) */, Real* bias /* (C G) */,
                     std::uint64_t seed, std::uint64_t stream);

template <class Exec, class Real>
void field_lift_forward(const Exec& exec, const FieldLiftCfg& cfg, int batch, index_t points,
                        const Real* w /* (C G) */, const Real* bias /* (C G) */,
                        const Real* x /* (B, T C, N) */, Real* y /* (B, C G T, N) */);

// dw, dbias accumulated; dx overwritten (may be null).
template <class Exec, class Real>
void field_lift_backward(const Exec& exec, const FieldLiftCfg& cfg, int batch, index_t points,
                         const Real* w /* (C G) */, const Real* x /* (B, T C, N) saved input */,
                         const Real* dy /* (B, C G T, N) */, Real* dw /* (C G) += */,
                         Real* dbias /* (C G) += */, Real* dx /* (B, T C, N); may be null */);

}  // namespace surro::op
