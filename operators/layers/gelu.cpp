#include "operators/layers/gelu.hpp"

#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

template <class Exec, class Real>
void gelu_forward(const Exec& exec, index_t n, const Real* x, Real* y) {
  ScopedRegion region("surro::op::gelu::forward");
  profile::add_work("surro::op::gelu::forward", 2.0 * n * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::gelu::forward", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { y[i] = gelu_value(x[i]); });
}

template <class Exec, class Real>
void gelu_backward(const Exec& exec, index_t n, const Real* x, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::gelu::backward");
  profile::add_work("surro::op::gelu::backward", 3.0 * n * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::gelu::backward", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { dx[i] = gelu_derivative(x[i]) * dy[i]; });
}

#define SURRO_X(Exec, Real)                                                         \
  template void gelu_forward<Exec, Real>(const Exec&, index_t, const Real*, Real*); \
  template void gelu_backward<Exec, Real>(const Exec&, index_t, const Real*, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
