#pragma once
// Smoothed-aggregation algebraic multigrid (Vanek, Mandel & Brezina 1996) as a preconditioner for
// the batched CG of a fem::System: the hierarchy is built once on the host from the assembled
// (constrained) block-diagonal CSR matrix, then the V-cycle runs as batched kernels over all samples.
//
// Setup, per level, in ascending row order (so aggregates never cross samples and a sample's
// hierarchy does not depend on the rest of the batch):
//   strength:    j is a strong neighbour of i if |a_ij| > theta sqrt(a_ii a_jj), theta = 0.08
//   aggregates:  greedy (roots whose strong neighbours are all free take them; the rest join the
//                aggregate of their strongest aggregated neighbour); rows with no off-diagonal
//                (Dirichlet rows after symmetric elimination) are left out: P has a zero row there
//   prolongator: P = (I - omega D^-1 A) P_tent, P_tent the aggregates' indicator (constants),
//                omega = 4 / (3 rho), rho the sample's Gershgorin bound of D^-1 A
//   coarse:      A_c = P^T A P; a sample stops coarsening once it has <= kCoarse rows (or stalls),
//                and is then solved exactly there by its dense inverse (Cholesky; a singular block,
//                the pure-Neumann case, is regularised by s 1 1^T, which leaves the range alone).
// V-cycle: one l1-Jacobi pre-sweep from zero, coarse correction, one l1-Jacobi post-sweep. The
// l1 smoother (x += (b - A x) / sum_j |a_ij|) converges for every SPD block without an eigenvalue
// estimate, and pre/post sweeps are each other's adjoints, so the preconditioner is symmetric
// positive definite and CG applies. Every kernel is a per-row loop in a fixed order: bitwise
// reproducible on a backend.
#include "solvers/fem/system.hpp"

#include <vector>

namespace surro::solvers::fem {

template <class Exec>
class Amg {
 public:
  using Mem = typename Exec::memory_space;
  using Vec = View1<double, Mem>;
  static constexpr int kCoarse = 64;     // rows per sample solved by a dense inverse
  static constexpr int kMaxLevels = 12;  // a sample at the last level is solved there regardless

  // Builds the hierarchy from value (nnz), A on the system's pattern (copied to the host once).
  Amg(const Exec& exec, const System<Exec>& system, const Vec& value);

  // out (Nd) = M^-1 in (Nd): one V-cycle.
  void apply(const Exec& exec, const Vec& in, const Vec& out);

  // Rows per level (summed over samples), finest first.
  std::vector<long long> level_rows() const;

  // Device data of one level (public for nvcc's extended lambdas).
  struct Level {
    index_t n = 0, nc = 0;             // rows here and on the next level
    View1<index_t, Mem> a_ptr;         // (n + 1)
    View1<int, Mem> a_col;             // (nnz_l)
    Vec a_val, l1inv;                  // (nnz_l), (n)
    View1<int, Mem> terminal;          // (n) 1 if the row's sample is solved densely here
    View1<index_t, Mem> p_ptr, r_ptr;  // (n + 1), (nc + 1)
    View1<int, Mem> p_col, r_col;      // P (n, nc), R = P^T (nc, n)
    Vec p_val, r_val;
    View1<index_t, Mem> dense_row;    // (n) offset of row i of its block's inverse in inv, or -1
    View1<index_t, Mem> block_begin;  // (n) first row of the row's dense block
    View1<int, Mem> block_size;       // (n)
    Vec inv;                          // dense inverses, row-major per block
    Vec b, x, t, y;                   // (n) work: right side, iterate, residual, output
  };
  std::vector<Level> levels;

  void cycle(const Exec& exec, int l, const Vec& b, const Vec& out);
};

}  // namespace surro::solvers::fem
