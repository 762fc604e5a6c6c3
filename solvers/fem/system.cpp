// Device batch of finite-element spaces: assembly, products, Dirichlet elimination, element
// kernels (see system.hpp).
#include "solvers/fem/system.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "solvers/fem/element.hpp"

namespace surro::solvers::fem {

namespace impl::fem_system {

// A LayoutRight View of the given extents holding a host vector's values.
template <class ViewT, class Exec, class U, class... Extents>
ViewT copy_shaped(const Exec& exec, const std::vector<U>& host, const std::string& label,
                  Extents... extents) {
  ViewT v(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), extents...);
  auto m = Kokkos::create_mirror_view(v);
  SURRO_REQUIRE(m.span() == host.size(),
                "fem: " << label << " has " << host.size() << " values: expected " << m.span());
  for (std::size_t i = 0; i < host.size(); ++i)
    m.data()[i] = static_cast<typename ViewT::value_type>(host[i]);
  Kokkos::deep_copy(exec, v, m);
  return v;
}

// Loads a cell's vertex coordinates (3, 2).
template <class V3>
KOKKOS_INLINE_FUNCTION void load_cell(const V3& cell_xy, index_t c, double xy[3][2]) {
  for (int k = 0; k < 3; ++k) {
    xy[k][0] = cell_xy(c, k, 0);
    xy[k][1] = cell_xy(c, k, 1);
  }
}

}  // namespace impl::fem_system

using namespace impl::fem_system;

template <class Exec>
System<Exec>::System(const BatchLayout& l, const CsrPattern& p) {
  Exec exec;
  batch = l.batch;
  nk = l.nk;
  degree = l.degree;
  num_dofs = l.num_dofs();
  num_cells = l.num_cells();
  nnz = p.nnz();
  num_chunks = static_cast<index_t>(p.chunk_sample.size());
  dof_offset_host = l.dof_offset;
  dof_offset = to_view<index_t>(exec, l.dof_offset, "surro::fem::dof_offset");
  cell_dofs = copy_shaped<V2<int>>(exec, l.cell_dofs, "surro::fem::cell_dofs", num_cells, nk);
  cell_xy = copy_shaped<V3<double>>(exec, l.cell_xy, "surro::fem::cell_xy", num_cells, 3, 2);
  cell_sample = to_view<int>(exec, l.cell_sample, "surro::fem::cell_sample");
  dof_sample = to_view<int>(exec, l.dof_sample, "surro::fem::dof_sample");
  dof_coords = copy_shaped<V2<double>>(exec, l.dof_coords, "surro::fem::dof_coords", num_dofs, 2);
  row_ptr = to_view<index_t>(exec, p.row_ptr, "surro::fem::row_ptr");
  diag = to_view<index_t>(exec, p.diag, "surro::fem::diag");
  col = to_view<int>(exec, p.col, "surro::fem::col");
  slot_ptr = to_view<index_t>(exec, p.slot_ptr, "surro::fem::slot_ptr");
  slot_entries = to_view<index_t>(exec, p.slot_entries, "surro::fem::slot_entries");
  dof_ptr = to_view<index_t>(exec, p.dof_ptr, "surro::fem::dof_ptr");
  dof_entries = to_view<index_t>(exec, p.dof_entries, "surro::fem::dof_entries");
  chunk_ptr = to_view<index_t>(exec, p.chunk_ptr, "surro::fem::chunk_ptr");
  chunk_sample = to_view<int>(exec, p.chunk_sample, "surro::fem::chunk_sample");
  sample_chunk = to_view<index_t>(exec, p.sample_chunk, "surro::fem::sample_chunk");
  exec.fence();
}

template <class Exec>
void System<Exec>::assemble_matrix(const Exec& exec, const V3<double>& em, const V1<double>& value) const {
  const double* e = em.data();
  const auto ptr = slot_ptr;
  // Element entries read once (gathered), slot lists read, values written.
  profile::add_work("surro::fem::assemble_matrix",
                    double(num_cells) * nk * nk * (sizeof(double) + sizeof(index_t)) + double(nnz) * 24.0);
  const auto ent = slot_entries;
  Kokkos::parallel_for(
      "surro::fem::assemble_matrix", Kokkos::RangePolicy<Exec>(exec, 0, nnz), KOKKOS_LAMBDA(const index_t s) {
        double sum = 0.0;
        for (index_t k = ptr(s); k < ptr(s + 1); ++k) sum += e[ent(k)];
        value(s) = sum;
      });
}

template <class Exec>
void System<Exec>::assemble_vector(const Exec& exec, const V2<double>& ev, const V1<double>& b) const {
  const double* e = ev.data();
  const auto ptr = dof_ptr;
  const auto ent = dof_entries;
  Kokkos::parallel_for(
      "surro::fem::assemble_vector", Kokkos::RangePolicy<Exec>(exec, 0, num_dofs),
      KOKKOS_LAMBDA(const index_t i) {
        double sum = 0.0;
        for (index_t k = ptr(i); k < ptr(i + 1); ++k) sum += e[ent(k)];
        b(i) = sum;
      });
}

template <class Exec>
void System<Exec>::multiply(const Exec& exec, const V1<double>& value, const V1<double>& x,
                            const V1<double>& y) const {
  const auto rp = row_ptr;
  const auto cl = col;
  // Values and columns once, x gathered (counted once), y written.
  profile::add_work("surro::fem::multiply", double(nnz) * (sizeof(double) + sizeof(int)) + 3.0 * num_dofs * 8,
                    2.0 * nnz);
  Kokkos::parallel_for(
      "surro::fem::multiply", Kokkos::RangePolicy<Exec>(exec, 0, num_dofs), KOKKOS_LAMBDA(const index_t i) {
        double sum = 0.0;
        for (index_t k = rp(i); k < rp(i + 1); ++k) sum += value(k) * x(cl(k));
        y(i) = sum;
      });
}

template <class Exec>
void System<Exec>::lift(const Exec& exec, const V1<double>& value, const V1<int>& mask, const V1<double>& g,
                        const V1<double>& b) const {
  const auto rp = row_ptr;
  const auto cl = col;
  Kokkos::parallel_for(
      "surro::fem::lift", Kokkos::RangePolicy<Exec>(exec, 0, num_dofs), KOKKOS_LAMBDA(const index_t i) {
        if (mask(i)) {
          b(i) = g(i);
          return;
        }
        double sum = 0.0;
        for (index_t k = rp(i); k < rp(i + 1); ++k)
          if (mask(cl(k))) sum += value(k) * g(cl(k));
        b(i) -= sum;
      });
}

template <class Exec>
void System<Exec>::constrain(const Exec& exec, const V1<int>& mask, const V1<double>& value) const {
  const auto rp = row_ptr;
  const auto cl = col;
  Kokkos::parallel_for(
      "surro::fem::constrain", Kokkos::RangePolicy<Exec>(exec, 0, num_dofs), KOKKOS_LAMBDA(const index_t i) {
        const bool row = mask(i) != 0;
        for (index_t k = rp(i); k < rp(i + 1); ++k)
          if (row || mask(cl(k))) value(k) = cl(k) == i ? 1.0 : 0.0;
      });
}

template <class Exec>
void System<Exec>::element_mass_stiffness(const Exec& exec, const V1<double>& alpha, const V1<double>& beta,
                                          const V3<double>& em) const {
  const int n = nk;
  const auto xyv = cell_xy;
  const auto cs = cell_sample;
  Kokkos::parallel_for(
      "surro::fem::element_mass_stiffness", Kokkos::RangePolicy<Exec>(exec, 0, num_cells),
      KOKKOS_LAMBDA(const index_t c) {
        double xy[3][2], gl[3][2], lam[3], phi[6], dphi[6][2], w;
        load_cell(xyv, c, xy);
        const double area = cell_geometry(xy, gl);
        const double a = alpha(cs(c)), bt = beta(cs(c));
        double m[6][6] = {}, k[6][6] = {};
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, w);
          basis(n, lam, gl, phi, dphi);
          for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
              m[i][j] += w * phi[i] * phi[j];
              k[i][j] += w * (dphi[i][0] * dphi[j][0] + dphi[i][1] * dphi[j][1]);
            }
        }
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) em(c, i, j) = area * (a * m[i][j] + bt * k[i][j]);
      });
}

template <class Exec>
View3<double, typename Exec::memory_space> System<Exec>::quadrature_points(const Exec& exec) const {
  V3<double> xq(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::fem::quadrature_points"), num_cells,
                kQuad, 2);
  const auto xyv = cell_xy;
  Kokkos::parallel_for(
      "surro::fem::quadrature_points", Kokkos::RangePolicy<Exec>(exec, 0, num_cells),
      KOKKOS_LAMBDA(const index_t c) {
        double lam[3], w;
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, w);
          for (int d = 0; d < 2; ++d)
            xq(c, q, d) = lam[0] * xyv(c, 0, d) + lam[1] * xyv(c, 1, d) + lam[2] * xyv(c, 2, d);
        }
      });
  return xq;
}

template <class Exec>
void System<Exec>::element_load(const Exec& exec, const V2<double>& fq, const V2<double>& ev) const {
  const int n = nk;
  const auto xyv = cell_xy;
  Kokkos::parallel_for(
      "surro::fem::element_load", Kokkos::RangePolicy<Exec>(exec, 0, num_cells),
      KOKKOS_LAMBDA(const index_t c) {
        double xy[3][2], gl[3][2], lam[3], phi[6], dphi[6][2], w;
        load_cell(xyv, c, xy);
        const double area = cell_geometry(xy, gl);
        double f[6] = {};
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, w);
          basis(n, lam, gl, phi, dphi);
          for (int i = 0; i < n; ++i) f[i] += w * fq(c, q) * phi[i];
        }
        for (int i = 0; i < n; ++i) ev(c, i) = area * f[i];
      });
}

// Per-sample sums (B) of per-cell values (Nc), in cell order on the host (diagnostics, not a hot
// path): the same on every backend.
template <class Exec>
std::vector<double> System<Exec>::sum_per_sample(const V1<double>& per_cell) const {
  const std::vector<double> cells = to_vector(per_cell);
  auto samples = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), cell_sample);
  std::vector<double> out(batch, 0.0);
  for (index_t c = 0; c < num_cells; ++c) out[samples(c)] += cells[c];
  return out;
}

template <class Exec>
std::vector<double> System<Exec>::l2_error_squared(const Exec& exec, const V1<double>& u,
                                                   const V2<double>& uq) const {
  const int n = nk;
  const auto xyv = cell_xy;
  const auto cd = cell_dofs;
  V1<double> per_cell(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::fem::l2_error::cells"),
                      num_cells);
  Kokkos::parallel_for(
      "surro::fem::l2_error", Kokkos::RangePolicy<Exec>(exec, 0, num_cells), KOKKOS_LAMBDA(const index_t c) {
        double xy[3][2], gl[3][2], lam[3], phi[6], dphi[6][2], w;
        load_cell(xyv, c, xy);
        const double area = cell_geometry(xy, gl);
        double sum = 0.0;
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, w);
          basis(n, lam, gl, phi, dphi);
          double uh = 0.0;
          for (int i = 0; i < n; ++i) uh += phi[i] * u(cd(c, i));
          sum += w * (uh - uq(c, q)) * (uh - uq(c, q));
        }
        per_cell(c) = area * sum;
      });
  return sum_per_sample(per_cell);
}

template <class Exec>
std::vector<double> System<Exec>::integral(const Exec& exec, const V1<double>& u) const {
  const int n = nk;
  const auto xyv = cell_xy;
  const auto cd = cell_dofs;
  V1<double> per_cell(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::fem::integral::cells"),
                      num_cells);
  Kokkos::parallel_for(
      "surro::fem::integral", Kokkos::RangePolicy<Exec>(exec, 0, num_cells), KOKKOS_LAMBDA(const index_t c) {
        double xy[3][2], gl[3][2], lam[3], phi[6], dphi[6][2], w;
        load_cell(xyv, c, xy);
        const double area = cell_geometry(xy, gl);
        double sum = 0.0;
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, w);
          basis(n, lam, gl, phi, dphi);
          for (int i = 0; i < n; ++i) sum += w * phi[i] * u(cd(c, i));
        }
        per_cell(c) = area * sum;
      });
  return sum_per_sample(per_cell);
}

template struct System<ExecSpace>;
#ifdef KOKKOS_ENABLE_CUDA
template struct System<HostExec>;
#endif

}  // namespace surro::solvers::fem
