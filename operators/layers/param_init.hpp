#pragma once
// Parameter initialization from the counter RNG (core/rng.hpp): element i of a tensor is draw
// (seed, stream, i), so a tensor's values do not depend on the backend or on the other tensors.
// Models pass one stream per tensor (its slot index in the ParamTable).
#include "core/types.hpp"

#include <cstdint>

namespace surro::op {

// out(i) = bound (2 U[0, 1) - 1): U(-bound, bound), PyTorch's Linear/Conv default with
// bound = 1/sqrt(fan_in), and Xavier-uniform with bound = gain sqrt(6 / (fan_in + fan_out)).
template <class Exec, class Real>
void init_uniform(const Exec& exec, index_t n, double bound, std::uint64_t seed, std::uint64_t stream,
                  Real* out /* (n) */);

// out(i) = stddev N(0, 1) (the first normal of Philox's Box-Muller pair at index i): torch.randn * stddev.
template <class Exec, class Real>
void init_normal(const Exec& exec, index_t n, double stddev, std::uint64_t seed, std::uint64_t stream,
                 Real* out /* (n) */);

// out(i) = value (LayerNorm's 1 and 0).
template <class Exec, class Real>
void init_constant(const Exec& exec, index_t n, double value, Real* out /* (n) */);

}  // namespace surro::op
