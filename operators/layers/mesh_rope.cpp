#include "operators/layers/mesh_rope.hpp"

#include "core/error.hpp"
#include "operators/layers/instantiate.hpp"

#include <cmath>

namespace surro::op {

void mesh_rope_validate(const MeshRopeCfg& c) {
  const int dh = c.heads > 0 ? c.dim / c.heads : 0;
  if (c.dims <= 0 || dh <= 0 || dh % (2 * c.dims) != 0)
    SURRO_THROW(ErrorKind::usage, "model.rope: the head size dim / heads = "
                                      << dh << " must be a positive multiple of 2 x the mesh dimension "
                                      << c.dims << " (one rotated pair per axis at least)");
  if (!(c.length > 0) || !std::isfinite(c.length))
    SURRO_THROW(ErrorKind::usage, "model.rope_length: expected a positive domain size, got " << c.length);
  if (!(c.max_freq >= 1) || !std::isfinite(c.max_freq))
    SURRO_THROW(ErrorKind::usage, "model.rope_max_freq: expected a number >= 1, got " << c.max_freq);
}

template <class Exec, class Real>
void mesh_rope_table(const Exec& exec, const MeshRopeCfg& c, index_t nodes, const double* pos, Real* table) {
  mesh_rope_validate(c);
  const int dims = c.dims, m = c.pairs();
  const double w0 = M_PI / c.length;
  const double step = m > 1 ? std::log(c.max_freq) / (m - 1) : 0.0;  // log f_k = k step
  Kokkos::parallel_for(
      "surro::mesh_rope::table", Kokkos::RangePolicy<Exec>(exec, 0, nodes * dims * m),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t k = e % m, a = (e / m) % dims, v = e / (index_t(m) * dims);
        const double theta = w0 * pos[v * dims + a] * ::exp(step * double(k));
        table[2 * e] = Real(::cos(theta));
        table[2 * e + 1] = Real(::sin(theta));
      });
}

template <class Exec, class Real>
void mesh_rope_apply(const Exec& exec, const MeshRopeCfg& c, index_t nodes, const Real* table, Real* x,
                     bool inverse) {
  mesh_rope_validate(c);
  const int dims = c.dims, m = c.pairs(), H = c.heads, dh = c.dim / c.heads, D = c.dim;
  const bool interleaved = c.layout == HeadLayout::interleaved;
  const Real sign = inverse ? Real(-1) : Real(1);
  // One thread per (node, head, axis, pair): each touches its own two channels.
  Kokkos::parallel_for(
      "surro::mesh_rope::apply", Kokkos::RangePolicy<Exec>(exec, 0, nodes * H * dims * m),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t k = e % m, a = (e / m) % dims, h = (e / (index_t(m) * dims)) % H;
        const index_t v = e / (index_t(m) * dims * H);
        const index_t j0 = a * (dh / dims) + k, j1 = j0 + m;  // the pair's components within the head
        const index_t c0 = interleaved ? j0 * H + h : h * dh + j0;
        const index_t c1 = interleaved ? j1 * H + h : h * dh + j1;
        const index_t t = ((v * dims + a) * m + k) * 2;
        const Real cs = table[t], sn = sign * table[t + 1];
        Real* row = x + v * D;
        const Real p = row[c0], q = row[c1];
        row[c0] = p * cs - q * sn;
        row[c1] = q * cs + p * sn;
      });
}

#define SURRO_X(Exec, Real)                                                                                   \
  template void mesh_rope_table<Exec, Real>(const Exec&, const MeshRopeCfg&, index_t, const double*, Real*); \
  template void mesh_rope_apply<Exec, Real>(const Exec&, const MeshRopeCfg&, index_t, const Real*, Real*, bool);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
