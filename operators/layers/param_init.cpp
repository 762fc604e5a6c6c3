#include "operators/layers/param_init.hpp"

#include "core/rng.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

template <class Exec, class Real>
void init_uniform(const Exec& exec, index_t n, double bound, std::uint64_t seed, std::uint64_t stream,
                  Real* out) {
  const rng::Philox gen{seed};
  const Real b = Real(bound);
  Kokkos::parallel_for(
      "surro::op::init::uniform", Kokkos::RangePolicy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const index_t i) {
        out[i] = b * (Real(2) * gen.uniform<Real>(stream, std::uint64_t(i)) - Real(1));
      });
}

template <class Exec, class Real>
void init_normal(const Exec& exec, index_t n, double stddev, std::uint64_t seed, std::uint64_t stream,
                 Real* out) {
  const rng::Philox gen{seed};
  Kokkos::parallel_for(
      "surro::op::init::normal", Kokkos::RangePolicy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const index_t i) {
        out[i] = Real(stddev * gen.normal<double>(stream, std::uint64_t(i)));
      });
}

template <class Exec, class Real>
void init_constant(const Exec& exec, index_t n, double value, Real* out) {
  const Real v = Real(value);
  Kokkos::parallel_for(
      "surro::op::init::constant", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { out[i] = v; });
}

#define SURRO_X(Exec, Real)                                                                                  \
  template void init_uniform<Exec, Real>(const Exec&, index_t, double, std::uint64_t, std::uint64_t, Real*); \
  template void init_normal<Exec, Real>(const Exec&, index_t, double, std::uint64_t, std::uint64_t, Real*);  \
  template void init_constant<Exec, Real>(const Exec&, index_t, double, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
