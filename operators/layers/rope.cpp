#include "operators/layers/rope.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <cmath>

namespace surro::op {

namespace rope_impl {

void check(const RopeCfg& cfg, int n) {
  SURRO_REQUIRE(cfg.dim > 0 && cfg.dim % 2 == 0,
                "rope: dim = " << cfg.dim << ": expected a positive even number");
  SURRO_REQUIRE(n > 0, "rope: n = " << n << ": expected positive");
  SURRO_REQUIRE(cfg.min_freq > 0, "rope: min_freq = " << cfg.min_freq << ": expected positive");
}

// Rotation of the pair (a, b) = (x(k), x(Dk/2 + k)) by sign * theta.
template <class Exec, class Real>
void rotate(const Exec& exec, const char* label, const RopeCfg& cfg, index_t blocks, int n, const Real* table,
            Real sign, const Real* x, Real* y) {
  const index_t h = cfg.dim / 2, dk = cfg.dim, rows = n;
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<Exec>(exec, 0, blocks * rows * h), KOKKOS_LAMBDA(const index_t e) {
        const index_t k = e % h, row = e / h, i = row % rows;
        const Real c = table[(i * h + k) * 2], s = sign * table[(i * h + k) * 2 + 1];
        const Real a = x[row * dk + k], b = x[row * dk + h + k];
        y[row * dk + k] = a * c - b * s;
        y[row * dk + h + k] = b * c + a * s;
      });
}

}  // namespace rope_impl

template <class Exec, class Real>
void rope_table(const Exec& exec, const RopeCfg& cfg, int n, const double* coords, Real* table) {
  rope_impl::check(cfg, n);
  const index_t h = cfg.dim / 2;
  const double factor = cfg.scale / cfg.min_freq, dim = cfg.dim;
  Kokkos::parallel_for(
      "surro::op::rope::table", Kokkos::RangePolicy<Exec>(exec, 0, index_t(n) * h),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t i = e / h, k = e % h;
        const double theta = coords[i] * factor * ::pow(10000.0, -2.0 * double(k) / dim);
        table[2 * e] = Real(::cos(theta));
        table[2 * e + 1] = Real(::sin(theta));
      });
}

template <class Exec, class Real>
void rope_forward(const Exec& exec, const RopeCfg& cfg, index_t blocks, int n, const Real* table,
                  const Real* x, Real* y) {
  ScopedRegion region("surro::op::rope::forward");
  rope_impl::rotate(exec, "surro::op::rope::forward", cfg, blocks, n, table, Real(1), x, y);
}

template <class Exec, class Real>
void rope_backward(const Exec& exec, const RopeCfg& cfg, index_t blocks, int n, const Real* table,
                   const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::rope::backward");
  rope_impl::rotate(exec, "surro::op::rope::backward", cfg, blocks, n, table, Real(-1), dy, dx);
}

#define SURRO_X(Exec, Real)                                                                       \
  template void rope_table<Exec, Real>(const Exec&, const RopeCfg&, int, const double*, Real*);   \
  template void rope_forward<Exec, Real>(const Exec&, const RopeCfg&, index_t, int, const Real*,  \
                                         const Real*, Real*);                                     \
  template void rope_backward<Exec, Real>(const Exec&, const RopeCfg&, index_t, int, const Real*, \
                                          const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
