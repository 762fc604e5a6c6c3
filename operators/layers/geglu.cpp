#include "operators/layers/geglu.hpp"

#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/gelu.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

template <class Exec, class Real>
void geglu_forward(const Exec& exec, index_t rows, int half, const Real* x, Real* y) {
  ScopedRegion region("surro::op::geglu::forward");
  const index_t L = half;
  profile::add_work("surro::op::geglu::forward", 3.0 * rows * L * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::geglu::forward", Kokkos::RangePolicy<Exec>(exec, 0, rows * L),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t r = i / L, c = i % L;
        y[i] = gelu_value(x[r * 2 * L + c]) * x[r * 2 * L + L + c];
      });
}

template <class Exec, class Real>
void geglu_backward(const Exec& exec, index_t rows, int half, const Real* x, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::geglu::backward");
  const index_t L = half;
  profile::add_work("surro::op::geglu::backward", 5.0 * rows * L * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::geglu::backward", Kokkos::RangePolicy<Exec>(exec, 0, rows * L),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t r = i / L, c = i % L;
        const Real a = x[r * 2 * L + c], g = x[r * 2 * L + L + c];
        dx[r * 2 * L + c] = gelu_derivative(a) * g * dy[i];
        dx[r * 2 * L + L + c] = gelu_value(a) * dy[i];
      });
}

#define SURRO_X(Exec, Real)                                                               \
  template void geglu_forward<Exec, Real>(const Exec&, index_t, int, const Real*, Real*); \
  template void geglu_backward<Exec, Real>(const Exec&, index_t, int, const Real*, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
