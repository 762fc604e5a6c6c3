#pragma once
// A batch of finite-element spaces on an execution space: the dof map, cell geometry and the CSR
// pattern on the device, and the kernels that assemble, multiply and constrain block-diagonal
// operators on it. Explicitly instantiated for surro::ExecSpace (and HostExec when different) in
// system.cpp.
//
// Assembly without atomics: element kernels write element matrices (Nc, Nk, Nk) / vectors (Nc, Nk);
// assemble_matrix() then lets each CSR slot sum its contributions through the pattern's gather list
// in ascending element order (assemble_vector() likewise per dof), so the result is bitwise the
// same on any backend and any thread count.
//
// Dirichlet conditions by symmetric elimination: for a set of constrained dofs with values g,
//   lift():      b_i = g_i on constrained rows, b_i -= sum_{j constrained} A_ij g_j elsewhere
//   constrain(): A_ij = delta_ij wherever i or j is constrained
// (lift first, with the unconstrained A). A symmetric A stays symmetric (CG applies), and the
// solution takes the values g on the constrained dofs exactly.
#include "core/types.hpp"
#include "solvers/fem/space.hpp"

#include <string>
#include <vector>

namespace surro::solvers::fem {

template <class Exec>
struct System {
  using Mem = typename Exec::memory_space;
  template <class T>
  using V1 = View1<T, Mem>;
  template <class T>
  using V2 = View2<T, Mem>;
  template <class T>
  using V3 = View3<T, Mem>;

  int batch = 0, nk = 3, degree = 1;
  index_t num_dofs = 0, num_cells = 0, nnz = 0, num_chunks = 0;
  std::vector<long long> dof_offset_host;  // (B + 1)
  V1<index_t> dof_offset;                  // (B + 1)
  V2<int> cell_dofs;                       // (Nc, Nk)
  V3<double> cell_xy;                      // (Nc, 3, 2)
  V1<int> cell_sample, dof_sample;         // (Nc), (Nd)
  V2<double> dof_coords;                   // (Nd, 2)
  V1<index_t> row_ptr, diag;               // (Nd + 1), (Nd)
  V1<int> col;                             // (nnz)
  V1<index_t> slot_ptr, slot_entries;      // (nnz + 1), (Nc Nk Nk)
  V1<index_t> dof_ptr, dof_entries;        // (Nd + 1), (Nc Nk)
  V1<index_t> chunk_ptr;                   // (Nch + 1)
  V1<int> chunk_sample;                    // (Nch)
  V1<index_t> sample_chunk;                // (B + 1)

  System() = default;
  System(const BatchLayout& layout, const CsrPattern& pattern);

  // value (nnz) = sum of element matrices em (Nc, Nk, Nk) in the pattern's fixed order.
  void assemble_matrix(const Exec& exec, const V3<double>& em, const V1<double>& value) const;
  // b (Nd) = sum of element vectors ev (Nc, Nk) in fixed order.
  void assemble_vector(const Exec& exec, const V2<double>& ev, const V1<double>& b) const;
  // y (Nd) = A x for A = value (nnz).
  void multiply(const Exec& exec, const V1<double>& value, const V1<double>& x, const V1<double>& y) const;
  // Symmetric elimination (see above); mask (Nd) is 1 on constrained dofs, g (Nd) their values.
  void lift(const Exec& exec, const V1<double>& value, const V1<int>& mask, const V1<double>& g,
            const V1<double>& b) const;
  void constrain(const Exec& exec, const V1<int>& mask, const V1<double>& value) const;

  // Element matrices em (Nc, Nk, Nk) = alpha_b M_e + beta_b K_e (mass, stiffness) with per-sample
  // coefficients alpha, beta (B).
  void element_mass_stiffness(const Exec& exec, const V1<double>& alpha, const V1<double>& beta,
                              const V3<double>& em) const;
  // Physical coordinates (Nc, Q, 2) of the quadrature points (kQuad per cell).
  V3<double> quadrature_points(const Exec& exec) const;
  // Element load vectors ev (Nc, Nk) = int f phi_i from f's values fq (Nc, Q) at the quadrature points.
  void element_load(const Exec& exec, const V2<double>& fq, const V2<double>& ev) const;
  // Per-sample squared L2 norms (B) of u_h - u with u_h = u (Nd) in this space and u's values uq
  // (Nc, Q) at the quadrature points; summed per cell, then per sample in cell order.
  std::vector<double> l2_error_squared(const Exec& exec, const V1<double>& u, const V2<double>& uq) const;
  // Per-sample integrals (B) of u_h = u (Nd), in the same fixed order.
  std::vector<double> integral(const Exec& exec, const V1<double>& u) const;
  // Per-sample sums (B) of per-cell values (Nc), in cell order.
  std::vector<double> sum_per_sample(const V1<double>& per_cell) const;
};

// Copies a host vector (converting its elements) to a new View of T on Exec's memory space.
template <class T, class Exec, class U>
View1<T, typename Exec::memory_space> to_view(const Exec& exec, const std::vector<U>& host,
                                              const std::string& label) {
  View1<T, typename Exec::memory_space> v(Kokkos::view_alloc(Kokkos::WithoutInitializing, label),
                                          host.size());
  auto m = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < host.size(); ++i) m(i) = static_cast<T>(host[i]);
  Kokkos::deep_copy(exec, v, m);
  exec.fence();
  return v;
}

// Copies a View back to a host vector.
template <class V>
std::vector<typename V::non_const_value_type> to_vector(const V& v) {
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<typename V::non_const_value_type>(m.data(), m.data() + m.span());
}

}  // namespace surro::solvers::fem
