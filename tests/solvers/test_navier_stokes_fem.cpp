// Taylor-Hood IPCS Navier-Stokes (solvers/fem/navier_stokes): Taylor-Green vortex with exact
// time-dependent Dirichlet data (spatial and temporal orders), and the DFG 2D-1 benchmark.
#include "mesh/gmsh_io.hpp"

#include "core/constants.hpp"
#include "solvers/fem/element.hpp"
#include "solvers/fem/navier_stokes.hpp"
#include "tests/solvers/fem_meshes.hpp"
#include "tests/spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using namespace surro;
using namespace surro::solvers::fem;

namespace {


// Taylor-Green vortex on the unit square, an exact Navier-Stokes solution:
//   u = (-cos(pi x) sin(pi y), sin(pi x) cos(pi y)) e^{-2 pi^2 nu t},
//   p = -(cos(2 pi x) + cos(2 pi y)) / 4 e^{-4 pi^2 nu t}  (zero mean).
struct TaylorGreen {
  double nu;
  double ux(double x, double y) const { return -std::cos(kPi * x) * std::sin(kPi * y); }
  double uy(double x, double y) const { return std::sin(kPi * x) * std::cos(kPi * y); }
  double decay(double t) const { return std::exp(-2.0 * kPi * kPi * nu * t); }
  double p(double x, double y, double t) const {
    return -0.25 * (std::cos(2 * kPi * x) + std::cos(2 * kPi * y)) * std::exp(-4.0 * kPi * kPi * nu * t);
  }
};

struct TgResult {
  double u_l2 = 0, p_l2 = 0;    // L2 errors at t_end (pressure against p(t_end - dt/2))
  std::vector<double> u;        // (Nd2, 2) final velocity
  std::vector<int> iterations;  // last step's (4) iterations
};

template <class Exec>
TgResult run_taylor_green(int n, double nu, double dt, int steps) {
  Exec exec;
  const mesh::Mesh m = test::jittered_square(n, 500 + n);
  const TaylorGreen tg{nu};
  Ipcs<Exec> ns({&m}, {nu}, dt);
  const BatchLayout& l2 = ns.velocity_layout();
  const BatchLayout& l1 = ns.pressure_layout();
  const Space s2 = make_space(m, 2);
  std::vector<int> mask(l2.num_dofs(), 0);
  for (int d : facet_dofs(m, s2, {1, 2, 3, 4})) mask[d] = 1;
  std::vector<double> shape(2 * l2.num_dofs()), p0(l1.num_dofs());
  for (long long d = 0; d < l2.num_dofs(); ++d) {
    shape[2 * d] = tg.ux(l2.dof_coords[2 * d], l2.dof_coords[2 * d + 1]);
    shape[2 * d + 1] = tg.uy(l2.dof_coords[2 * d], l2.dof_coords[2 * d + 1]);
  }
  for (long long d = 0; d < l1.num_dofs(); ++d)
    p0[d] = tg.p(l1.dof_coords[2 * d], l1.dof_coords[2 * d + 1], 0.0);
  ns.set_velocity_dirichlet(mask, shape, [tg](int, double t) { return tg.decay(t); });
  ns.set_initial(shape, p0, 0.0);  // u0 = the exact field at t = 0
  ns.tolerance = 1e-12;
  for (int k = 0; k < steps; ++k) ns.step(exec);
  const double t = ns.time();
  // Errors at the quadrature points; the pressure is compared after removing its mean (it is
  // determined up to a constant) against p(t - dt/2), the Crank-Nicolson midpoint it approximates.
  const System<Exec>& sv = ns.velocity_system();
  const System<Exec>& sp = ns.pressure_system();
  using Mem = typename Exec::memory_space;
  auto xq = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sv.quadrature_points(exec));
  View2<double, Mem> qx("qx", sv.num_cells, kQuad), qy("qy", sv.num_cells, kQuad),
      qp("qp", sv.num_cells, kQuad);
  auto hx = Kokkos::create_mirror_view(qx);
  auto hy = Kokkos::create_mirror_view(qy);
  auto hp = Kokkos::create_mirror_view(qp);
  for (index_t c = 0; c < sv.num_cells; ++c)
    for (int q = 0; q < kQuad; ++q) {
      const double x = xq(c, q, 0), y = xq(c, q, 1);
      hx(c, q) = tg.ux(x, y) * tg.decay(t);
      hy(c, q) = tg.uy(x, y) * tg.decay(t);
      hp(c, q) = tg.p(x, y, t - 0.5 * dt);
    }
  Kokkos::deep_copy(qx, hx);
  Kokkos::deep_copy(qy, hy);
  Kokkos::deep_copy(qp, hp);
  TgResult r;
  r.u_l2 = std::sqrt(sv.l2_error_squared(exec, ns.ux, qx)[0] + sv.l2_error_squared(exec, ns.uy, qy)[0]);
  // p_h's mean (the exact p has zero mean on the unit square).
  std::vector<double> p = ns.pressure();
  const double mean_shift = sp.integral(exec, ns.p)[0];
  for (double& v : p) v -= mean_shift;
  r.p_l2 = std::sqrt(sp.l2_error_squared(exec, to_view<double>(exec, p, "p"), qp)[0]);
  r.u = ns.velocity();
  r.iterations = ns.last_iterations();
  return r;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("fem NS: Taylor-Green spatial convergence (P2 velocity, P1 pressure)",
                        "[navier_stokes_fem]", test::ExecSpaces) {
  // Theory for Taylor-Hood on a smooth solution: velocity L2 O(h^3), pressure L2 O(h^2). The time
  // step (2.5e-4, 40 steps to t = 0.01) keeps the second-order time error below the spatial error
  // of the finest mesh. Accepted: velocity order >= 2.8 and pressure order >= 1.9 on the last
  // halving (jittered meshes halve h only nominally).
  const double nu = 0.1, dt = 2.5e-4;
  const int steps = 40;
  std::vector<double> eu, ep;
  for (int n : {4, 8, 16, 32}) {
    const TgResult r = run_taylor_green<TestType>(n, nu, dt, steps);
    eu.push_back(r.u_l2);
    ep.push_back(r.p_l2);
    std::printf("fem NS TG n=%d: |u - u_h| = %.3e |p - p_h| = %.3e iterations %d %d %d %d\n", n, r.u_l2,
                r.p_l2, r.iterations[0], r.iterations[1], r.iterations[2], r.iterations[3]);
  }
  for (std::size_t k = 1; k < eu.size(); ++k)
    std::printf("  orders u %.3f p %.3f\n", std::log2(eu[k - 1] / eu[k]), std::log2(ep[k - 1] / ep[k]));
  CHECK(std::log2(eu[2] / eu[3]) >= 2.8);
  CHECK(std::log2(ep[2] / ep[3]) >= 1.9);
}

TEMPLATE_LIST_TEST_CASE("fem NS: Taylor-Green temporal order", "[navier_stokes_fem]", test::ExecSpaces) {
  // Self-convergence at fixed mesh (the spatial error cancels): e(k) = |u_k - u_{k/2}| (RMS over the
  // velocity dofs) at t = 0.4, k = 0.04, 0.02, 0.01, 0.005. A second-order scheme gives
  // log2(e(k) / e(k/2)) -> 2; accepted within [1.8, 2.2].
  const double nu = 0.1, t_end = 0.4;
  std::vector<std::vector<double>> u;
  for (int steps : {10, 20, 40, 80}) u.push_back(run_taylor_green<TestType>(8, nu, t_end / steps, steps).u);
  std::vector<double> e;
  for (std::size_t k = 0; k + 1 < u.size(); ++k) {
    double s = 0;
    for (std::size_t i = 0; i < u[k].size(); ++i) s += (u[k][i] - u[k + 1][i]) * (u[k][i] - u[k + 1][i]);
    e.push_back(std::sqrt(s / u[k].size()));
  }
  for (std::size_t k = 1; k < e.size(); ++k) {
    const double order = std::log2(e[k - 1] / e[k]);
    std::printf("fem NS TG temporal self-convergence order %.3f (e = %.3e -> %.3e)\n", order, e[k - 1], e[k]);
    if (k == e.size() - 1) CHECK(std::fabs(order - 2.0) <= 0.2);
  }
}

TEST_CASE("fem NS: DFG 2D-1 (steady, Re = 20)", "[navier_stokes_fem]") {
  // Schaefer & Turek (1996) 2D-1: U_m = 0.3, nu = 1e-3, rho = 1, D = 0.1 (Re = 20). Reference values
  // (John & Matthies 2001, refined): c_D = 5.57953523384, c_L = 0.010618948146, Delta p = 0.11752016697.
  // Run from rest to the steady state (which does not depend on the step: phi = 0 there) on the
  // Gmsh channel at its default (CylinderFlow) resolution: 1873 vertices, size 0.01 on the
  // cylinder (a 32-gon with straight P2 sides). Measured: c_D -0.37%, c_L -2.4%, Delta p -0.15%;
  // accepted: 1% on c_D and Delta p, 5% on the small c_L. Refined meshes: bench_fem_dfg.
  mesh::ChannelGeometry geometry;  // the defaults
  const mesh::Mesh m = mesh::generate_channel(geometry);
  ChannelSample s;
  s.nu = 1e-3;
  s.u_max = 0.3;
  ChannelRun run;
  run.dt = 0.025;
  run.steps = 320;  // to t = 8
  run.record_every = 80;
  const ChannelResult r = solve_channel_flow({&m}, {s}, run);
  const double cd = r.drag[0].back(), cl = r.lift[0].back(), dp = r.delta_p[0].back();
  const std::size_t n = r.drag[0].size();
  std::printf(
      "fem NS DFG 2D-1: V = %lld, cells %lld: c_D = %.5f c_L = %.5f dp = %.5f (change over the last 50 "
      "steps: %.2e), pressure CG iterations %d\n",
      m.num_points(), m.num_cells(), cd, cl, dp, std::fabs(cd - r.drag[0][n - 51]),
      r.pressure_iterations[0].back());
  CHECK(std::fabs(cd - 5.57953523384) < 0.01 * 5.57953523384);
  CHECK(std::fabs(cl - 0.010618948146) < 0.05 * 0.010618948146);
  CHECK(std::fabs(dp - 0.11752016697) < 0.01 * 0.11752016697);
  CHECK(r.times.size() == 5);  // t = 0 and every 80 steps
  CHECK(r.velocity[0].size() == r.times.size() * 2 * m.num_points());
  CHECK(r.pressure[0].size() == r.times.size() * m.num_points());
}

TEMPLATE_LIST_TEST_CASE("fem NS: a batch steps each sample as if alone", "[navier_stokes_fem]",
                        test::ExecSpaces) {
  // Two Taylor-Green samples with different meshes and viscosities: per-sample Krylov scalars and
  // reduction order make the batched run equal to the single runs bitwise.
  using Exec = TestType;
  Exec exec;
  const std::vector<mesh::Mesh> meshes = {test::jittered_square(5, 11), test::jittered_square(7, 12)};
  const std::vector<double> nus = {0.1, 0.02};
  auto setup = [&](Ipcs<Exec>& ns, const std::vector<int>& which) {
    const BatchLayout& l2 = ns.velocity_layout();
    std::vector<int> mask;
    for (int b : which) {
      const Space s2 = make_space(meshes[b], 2);
      std::vector<int> m(s2.num_dofs, 0);
      for (int d : facet_dofs(meshes[b], s2, {1, 2, 3, 4})) m[d] = 1;
      mask.insert(mask.end(), m.begin(), m.end());
    }
    std::vector<double> shape(2 * l2.num_dofs());
    for (long long d = 0; d < l2.num_dofs(); ++d) {
      const double x = l2.dof_coords[2 * d], y = l2.dof_coords[2 * d + 1];
      shape[2 * d] = -std::cos(kPi * x) * std::sin(kPi * y);
      shape[2 * d + 1] = std::sin(kPi * x) * std::cos(kPi * y);
    }
    std::vector<double> nu_of;
    for (int b : which) nu_of.push_back(nus[b]);
    ns.set_velocity_dirichlet(mask, shape,
                              [nu_of](int b, double t) { return std::exp(-2 * kPi * kPi * nu_of[b] * t); });
    ns.set_initial(shape, std::vector<double>(ns.pressure_layout().num_dofs(), 0.0), 0.0);
    for (int k = 0; k < 5; ++k) ns.step(exec);
  };
  Ipcs<Exec> both({&meshes[0], &meshes[1]}, nus, 0.01);
  setup(both, {0, 1});
  const std::vector<double> ub = both.velocity(), pb = both.pressure();
  for (int b = 0; b < 2; ++b) {
    Ipcs<Exec> one({&meshes[b]}, {nus[b]}, 0.01);
    setup(one, {b});
    const std::vector<double> u = one.velocity(), p = one.pressure();
    const long long o2 = both.velocity_layout().dof_offset[b], o1 = both.pressure_layout().dof_offset[b];
    CHECK(std::vector<double>(ub.begin() + 2 * o2, ub.begin() + 2 * o2 + u.size()) == u);
    CHECK(std::vector<double>(pb.begin() + o1, pb.begin() + o1 + p.size()) == p);
  }
}
