// Finite-element core (solvers/fem): P1/P2 element matrices against hand-computed ones, Poisson
// convergence orders on unstructured meshes, batch independence (bitwise), the CSR pattern and
// the batched Krylov solvers.
#include "solvers/fem/amg.hpp"

#include "core/constants.hpp"
#include "solvers/fem/element.hpp"
#include "solvers/fem/krylov.hpp"
#include "solvers/fem/space.hpp"
#include "solvers/fem/system.hpp"
#include "tests/solvers/fem_meshes.hpp"
#include "tests/spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

using namespace surro;
using namespace surro::solvers::fem;

namespace {


// Manufactured solution with non-zero Dirichlet data: u = e^x sin(pi y) + x y, -Lap u = f.
double exact(double x, double y) {
  return std::exp(x) * std::sin(kPi * y) + x * y;
}
double forcing(double x, double y) {
  return (kPi * kPi - 1.0) * std::exp(x) * std::sin(kPi * y);
}

struct PoissonResult {
  std::vector<double> u;           // (Nd) batch solution
  std::vector<double> l2;          // (B) L2 errors
  std::vector<int> iterations;     // (B) CG iterations
  std::vector<long long> offsets;  // (B + 1) dof offsets
  std::vector<long long> levels;   // AMG rows per level (with amg)
};

// Solves -Lap u = f, u = exact on the boundary, on every mesh of the batch at once (P`degree`).
template <class Exec>
PoissonResult solve_poisson(const std::vector<mesh::Mesh>& meshes, int degree, bool bicgstab = false,
                            bool amg = false) {
  Exec exec;
  std::vector<Space> spaces;
  for (const auto& m : meshes) spaces.push_back(make_space(m, degree));
  std::vector<const mesh::Mesh*> mp;
  std::vector<const Space*> sp;
  std::vector<int> mask_host;
  for (std::size_t b = 0; b < meshes.size(); ++b) {
    mp.push_back(&meshes[b]);
    sp.push_back(&spaces[b]);
    std::vector<int> sample_mask(spaces[b].num_dofs, 0);
    for (int d : facet_dofs(meshes[b], spaces[b], {1, 2, 3, 4})) sample_mask[d] = 1;
    mask_host.insert(mask_host.end(), sample_mask.begin(), sample_mask.end());
  }
  const BatchLayout layout = make_batch(mp, sp);
  const System<Exec> sys(layout, make_pattern(layout));
  const int nb = static_cast<int>(meshes.size()), nk = sys.nk;
  using Mem = typename Exec::memory_space;
  View1<double, Mem> zero("zero", nb), one("one", nb);
  Kokkos::deep_copy(one, 1.0);
  View3<double, Mem> em("em", sys.num_cells, nk, nk);
  View1<double, Mem> a("a", sys.nnz), rhs("rhs", sys.num_dofs), x("x", sys.num_dofs);
  sys.element_mass_stiffness(exec, zero, one, em);
  sys.assemble_matrix(exec, em, a);
  // f and u at the quadrature points, and the boundary values at the dofs.
  auto xq = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sys.quadrature_points(exec));
  View2<double, Mem> fq("fq", sys.num_cells, kQuad), uq("uq", sys.num_cells, kQuad);
  auto fh = Kokkos::create_mirror_view(fq);
  auto uh = Kokkos::create_mirror_view(uq);
  for (index_t c = 0; c < sys.num_cells; ++c)
    for (int q = 0; q < kQuad; ++q) {
      fh(c, q) = forcing(xq(c, q, 0), xq(c, q, 1));
      uh(c, q) = exact(xq(c, q, 0), xq(c, q, 1));
    }
  Kokkos::deep_copy(fq, fh);
  Kokkos::deep_copy(uq, uh);
  std::vector<double> g_host(layout.num_dofs());
  for (long long d = 0; d < layout.num_dofs(); ++d)
    g_host[d] = exact(layout.dof_coords[2 * d], layout.dof_coords[2 * d + 1]);
  const auto g = to_view<double>(exec, g_host, "g");
  const auto mask = to_view<int>(exec, mask_host, "mask");
  View2<double, Mem> ev("ev", sys.num_cells, nk);
  sys.element_load(exec, fq, ev);
  sys.assemble_vector(exec, ev, rhs);
  sys.lift(exec, a, mask, g, rhs);
  sys.constrain(exec, mask, a);
  Krylov<Exec> krylov(sys);
  std::unique_ptr<Amg<Exec>> hierarchy;
  if (amg) {
    hierarchy = std::make_unique<Amg<Exec>>(exec, sys, a);
    krylov.set_amg(hierarchy.get());
  }
  const KrylovReport rep =
      bicgstab ? krylov.bicgstab(exec, a, rhs, x, 1e-12, 10000) : krylov.cg(exec, a, rhs, x, 1e-12, 10000);
  rep.require_converged("poisson", 1e-12);
  PoissonResult out;
  out.u = to_vector(x);
  for (double e2 : sys.l2_error_squared(exec, x, uq)) out.l2.push_back(std::sqrt(e2));
  out.iterations = rep.iterations;
  out.offsets = layout.dof_offset;
  if (hierarchy) out.levels = hierarchy->level_rows();
  return out;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("fem: P1 element matrices of the reference triangle", "[fem]", test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  Exec exec;
  mesh::Mesh m;
  m.points = {0, 0, 1, 0, 0, 1};
  m.cells = {0, 1, 2};
  for (int degree : {1, 2}) {
    const Space s = make_space(m, degree);
    const BatchLayout l = make_batch({&m}, {&s});
    const System<Exec> sys(l, make_pattern(l));
    View1<double, Mem> zero("zero", 1), one("one", 1);
    Kokkos::deep_copy(one, 1.0);
    View3<double, Mem> mass("mass", 1, s.nk, s.nk), stiff("stiff", 1, s.nk, s.nk);
    sys.element_mass_stiffness(exec, one, zero, mass);
    sys.element_mass_stiffness(exec, zero, one, stiff);
    auto mh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), mass);
    auto kh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), stiff);
    if (degree == 1) {
      // By hand: K = (1/2) [[2, -1, -1], [-1, 1, 0], [-1, 0, 1]], M = (1/24) [[2, 1, 1], [1, 2, 1], [1, 1,
      // 2]]
      // (|T| = 1/2, grad l0 = (-1, -1), grad l1 = (1, 0), grad l2 = (0, 1)); the degree-5 rule is
      // exact for both, so they agree to rounding (a few ulps).
      const double k[3][3] = {{1.0, -0.5, -0.5}, {-0.5, 0.5, 0.0}, {-0.5, 0.0, 0.5}};
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          CHECK(kh(0, i, j) == Approx(k[i][j]).margin(1e-15));
          CHECK(mh(0, i, j) == Approx((i == j ? 2.0 : 1.0) / 24.0).epsilon(1e-14));
        }
    } else {
      // P2 by hand on the reference triangle: vertex-vertex mass 1/60 (i = j), -1/360 (i != j);
      // vertex-edge 0 for the vertex on the side, -1/90 opposite; edge-edge 4/45 (i = j), 2/45.
      // Stiffness: vertex 0 diagonal 1, vertices 1, 2 diagonal 1/2; rows sum to 0 (constants).
      for (int i = 0; i < 6; ++i) {
        double row = 0;
        for (int j = 0; j < 6; ++j) row += kh(0, i, j);
        CHECK(row == Approx(0.0).margin(1e-14));
      }
      CHECK(kh(0, 0, 0) == Approx(1.0).epsilon(1e-14));
      CHECK(kh(0, 1, 1) == Approx(0.5).epsilon(1e-14));
      CHECK(mh(0, 0, 0) == Approx(1.0 / 60).epsilon(1e-14));
      CHECK(mh(0, 0, 1) == Approx(-1.0 / 360).epsilon(1e-14));
      CHECK(mh(0, 0, 3) == Approx(0.0).margin(1e-16));         // vertex 0 lies on side 0
      CHECK(mh(0, 0, 4) == Approx(-1.0 / 90).epsilon(1e-14));  // side 1 (vertices 1, 2) is opposite
      CHECK(mh(0, 3, 3) == Approx(4.0 / 45).epsilon(1e-14));
      CHECK(mh(0, 3, 4) == Approx(2.0 / 45).epsilon(1e-14));
    }
  }
}

TEST_CASE("fem: P2 dof map and CSR pattern", "[fem]") {
  const mesh::Mesh m = test::jittered_square(3, 7);
  const Space s = make_space(m, 2);
  // V = 16, E = 3 * 9 + 2 * 3 = 33 edges of a 3 x 3 grid of cut squares.
  REQUIRE(s.num_dofs == 16 + 33);
  for (long long d = 16; d < s.num_dofs; ++d) {  // edge dofs at midpoints
    const int a = s.edges[2 * (d - 16)], b = s.edges[2 * (d - 16) + 1];
    CHECK(s.dof_coords[2 * d] == 0.5 * (m.points[2 * a] + m.points[2 * b]));
  }
  // Boundary: 12 vertices and 12 boundary edges.
  CHECK(facet_dofs(m, s, {1, 2, 3, 4}).size() == 24);
  const BatchLayout l = make_batch({&m, &m}, {&s, &s});
  const CsrPattern p = make_pattern(l);
  REQUIRE(p.row_ptr.size() == static_cast<std::size_t>(2 * s.num_dofs + 1));
  long long contributions = 0;
  for (long long row = 0; row < 2 * s.num_dofs; ++row) {
    for (long long k = p.row_ptr[row]; k < p.row_ptr[row + 1]; ++k) {
      if (k > p.row_ptr[row]) CHECK(p.col[k] > p.col[k - 1]);  // sorted, unique
      CHECK((p.col[k] >= s.num_dofs) == (row >= s.num_dofs));  // block-diagonal
      contributions += p.slot_ptr[k + 1] - p.slot_ptr[k];
    }
    CHECK(p.col[p.diag[row]] == row);
  }
  CHECK(contributions == 2 * m.num_cells() * 36);
}

TEMPLATE_LIST_TEST_CASE("fem: Poisson convergence orders on unstructured meshes", "[fem]", test::ExecSpaces) {
  // L2 error orders of Lagrange elements for a smooth solution: h^2 (P1) and h^3 (P2). The
  // observed order between successive halvings of h (jittered meshes, so h halves only nominally)
  // must be within 0.1 of theory on the last two refinements.
  for (int degree : {1, 2}) {
    const std::vector<int> sizes =
        degree == 1 ? std::vector<int>{8, 16, 32, 64} : std::vector<int>{8, 16, 32, 64};
    std::vector<double> errors;
    std::printf("fem Poisson P%d:", degree);
    for (int n : sizes) {
      const PoissonResult r = solve_poisson<TestType>({test::jittered_square(n, 1000 + n)}, degree);
      errors.push_back(r.l2[0]);
      std::printf(" n=%d L2=%.3e CG=%d", n, r.l2[0], r.iterations[0]);
    }
    std::printf("\n orders:");
    for (std::size_t k = 1; k < errors.size(); ++k) {
      const double order = std::log2(errors[k - 1] / errors[k]);
      std::printf(" %.3f", order);
      if (k >= errors.size() - 2) CHECK(std::fabs(order - (degree + 1)) < 0.1);
    }
    std::printf("\n");
  }
}

TEMPLATE_LIST_TEST_CASE("fem: a batch solves each sample as if alone", "[fem]", test::ExecSpaces) {
  // Per-sample scalars and per-sample reduction order: sample b's iterates depend only on its own
  // block, so the batched solution equals the single solve bitwise.
  const std::vector<mesh::Mesh> meshes = {test::jittered_square(6, 1), test::jittered_square(11, 2),
                                          test::jittered_square(9, 3)};
  for (int degree : {1, 2}) {
    const PoissonResult all = solve_poisson<TestType>(meshes, degree);
    for (int b = 0; b < 3; ++b) {
      const PoissonResult one = solve_poisson<TestType>({meshes[b]}, degree);
      CHECK(one.iterations[0] == all.iterations[b]);
      CHECK(one.l2[0] == all.l2[b]);
      const std::vector<double> part(all.u.begin() + all.offsets[b], all.u.begin() + all.offsets[b + 1]);
      CHECK(part == one.u);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("fem: BiCGStab agrees with CG", "[fem]", test::ExecSpaces) {
  // Both stop at relative residual 1e-12; with cond(A) = O(h^-2) ~ 1e3 here the two solutions
  // differ by at most about cond(A) * 2e-12 relative, so 1e-8 (max norm, |u| ~ 3) is a safe bound.
  const std::vector<mesh::Mesh> meshes = {test::jittered_square(10, 4), test::jittered_square(7, 5)};
  for (int degree : {1, 2}) {
    const PoissonResult cg = solve_poisson<TestType>(meshes, degree);
    const PoissonResult bi = solve_poisson<TestType>(meshes, degree, true);
    double diff = 0;
    for (std::size_t i = 0; i < cg.u.size(); ++i) diff = std::max(diff, std::fabs(cg.u[i] - bi.u[i]));
    CHECK(diff < 1e-8);
    std::printf("fem P%d iterations CG %d %d, BiCGStab %d %d\n", degree, cg.iterations[0], cg.iterations[1],
                bi.iterations[0], bi.iterations[1]);
  }
}

TEMPLATE_LIST_TEST_CASE("fem: Krylov failures are reported per sample", "[fem]", test::ExecSpaces) {
  // Sample 0: the Poisson system; sample 1: its negative (-K is negative definite, so CG's p.Ap < 0
  // on the first iteration: breakdown). With max_it = 3 sample 0 is exhausted instead.
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  Exec exec;
  const mesh::Mesh m0 = test::jittered_square(6, 21), m1 = test::jittered_square(5, 22);
  const Space s0 = make_space(m0, 1), s1 = make_space(m1, 1);
  const BatchLayout l = make_batch({&m0, &m1}, {&s0, &s1});
  const System<Exec> sys(l, make_pattern(l));
  View1<double, Mem> zero("zero", 2), beta = to_view<double>(exec, std::vector<double>{1.0, -1.0}, "beta");
  View3<double, Mem> em("em", sys.num_cells, 3, 3);
  View1<double, Mem> a("a", sys.nnz), b("b", sys.num_dofs), x("x", sys.num_dofs);
  sys.element_mass_stiffness(exec, zero, beta, em);
  sys.assemble_matrix(exec, em, a);
  std::vector<int> mask(l.num_dofs(), 0);
  for (int d : facet_dofs(m0, s0, {1, 2, 3, 4})) mask[d] = 1;
  for (int d : facet_dofs(m1, s1, {1, 2, 3, 4})) mask[l.dof_offset[1] + d] = 1;
  sys.constrain(exec, to_view<int>(exec, mask, "mask"), a);
  Kokkos::deep_copy(b, 1.0);
  Krylov<Exec> krylov(sys);
  const KrylovReport rep = krylov.cg(exec, a, b, x, 1e-12, 3);
  CHECK(rep.status[0] == KrylovStatus::exhausted);
  CHECK(rep.iterations[0] == 3);
  CHECK(rep.status[1] == KrylovStatus::breakdown);
  CHECK_THROWS_WITH(rep.require_converged("test system", 1e-12),
                    Catch::Contains("test system: sample 0: no convergence after 3 iterations"));
}

TEMPLATE_LIST_TEST_CASE("fem: AMG-preconditioned CG on refined meshes", "[fem_amg]", test::ExecSpaces) {
  // Both solves stop at relative residual 1e-12, so the two solutions differ by at most about
  // cond(A) * 2e-12 relative; cond(A) of the P1 stiffness matrix is below n^2 on these n x n meshes
  // (about 0.4 n^2 on the uniform grid), so n^2 * 2e-12 * max|u| bounds the difference.
  // Multigrid: the V-cycle's contraction is bounded independently of h (smoothed aggregation), so
  // the iteration count may grow only slowly: at most 1.5x (+2) per refinement and <= 30 in all,
  // where Jacobi-CG iterations double (cond(D^-1 A) ~ h^-2).
  int previous = 0;
  for (int n : {16, 32, 64, 128}) {
    const std::vector<mesh::Mesh> meshes = {test::jittered_square(n, 40 + n)};
    const PoissonResult jac = solve_poisson<TestType>(meshes, 1);
    const PoissonResult amg = solve_poisson<TestType>(meshes, 1, false, true);
    double diff = 0, umax = 0;
    for (std::size_t i = 0; i < jac.u.size(); ++i) {
      diff = std::max(diff, std::fabs(jac.u[i] - amg.u[i]));
      umax = std::max(umax, std::fabs(jac.u[i]));
    }
    CHECK(diff <= 2e-12 * n * n * umax);
    CHECK(amg.iterations[0] <= 30);
    if (previous > 0) CHECK(amg.iterations[0] <= 1.5 * previous + 2);
    previous = amg.iterations[0];
    CHECK(amg.levels.size() >= 2);
    std::printf("fem AMG n=%d (%lld dofs, %zu levels): CG iterations Jacobi %d, AMG %d, |diff| %.2e\n", n,
                static_cast<long long>(jac.u.size()), amg.levels.size(), jac.iterations[0], amg.iterations[0],
                diff);
  }
}

TEMPLATE_LIST_TEST_CASE("fem: AMG batch solves each sample as if alone", "[fem_amg]", test::ExecSpaces) {
  // Aggregates never cross samples and every sample chooses its own levels (the 6 x 6 mesh has
  // 49 <= kCoarse rows and is solved directly on level 0), so the batched solution equals the
  // single solves bitwise.
  const std::vector<mesh::Mesh> meshes = {test::jittered_square(6, 1), test::jittered_square(24, 2),
                                          test::jittered_square(13, 3)};
  const PoissonResult all = solve_poisson<TestType>(meshes, 1, false, true);
  for (int b = 0; b < 3; ++b) {
    const PoissonResult one = solve_poisson<TestType>({meshes[b]}, 1, false, true);
    CHECK(one.iterations[0] == all.iterations[b]);
    CHECK(one.l2[0] == all.l2[b]);
    const std::vector<double> part(all.u.begin() + all.offsets[b], all.u.begin() + all.offsets[b + 1]);
    CHECK(part == one.u);
  }
  CHECK(all.iterations[0] <= 2);  // the exact coarse solve: CG converges in one step (up to rounding)
}
