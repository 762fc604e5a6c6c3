// DFG flow-around-a-cylinder functionals (Schaefer & Turek 1996) from the Taylor-Hood IPCS solver,
// for the convergence table in docs/solvers.md.
// Usage: bench_fem_dfg CASE MESH [DT T_END]
//   CASE 1: 2D-1 (steady, U_m = 0.3, Re = 20), run from rest to T_END (default 10, DT 0.02); prints
//           c_D, c_L, Delta p at the end and their relative errors.
//   CASE 3: 2D-3 (U_m(t) = 1.5 sin(pi t / 8), Re <= 100) on [0, 8] (DT default 1/1600); prints
//           max c_D, max c_L (and their times), Delta p(8).
//   MESH: an integer M: the O-grid channel of tests/solvers/fem_meshes.hpp with M cells per side of
//         the box around the cylinder (spacing 0.2 / M there); gmsh:SIZE:SIZE_OBSTACLE: the
//         Gmsh channel of mesh::generate_channel with those element sizes; or msh:FILE: a Gmsh file
//         with physical groups inlet, outlet, walls and cylinder (the peer's --write-msh).
// One line of key=value pairs on stdout.
#include "mesh/gmsh_io.hpp"
#include "solvers/fem/navier_stokes.hpp"
#include "tests/solvers/fem_meshes.hpp"

#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <string>

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_fem_dfg CASE(1|3) M [DT T_END]\n");
    return 2;
  }
  const int which = std::atoi(argv[1]);
  const std::string spec = argv[2];
  const double dt = argc > 3 ? std::atof(argv[3]) : (which == 1 ? 0.02 : 1.0 / 1600);
  const double t_end = argc > 4 ? std::atof(argv[4]) : (which == 1 ? 10.0 : 8.0);
  surro::mesh::Mesh mesh;
  if (spec.rfind("gmsh:", 0) == 0) {
    surro::mesh::ChannelGeometry g;
    const std::size_t colon = spec.find(':', 5);
    g.size = std::atof(spec.substr(5, colon - 5).c_str());
    g.size_obstacle = colon == std::string::npos ? g.size : std::atof(spec.substr(colon + 1).c_str());
    mesh = surro::mesh::generate_channel(g);
  } else if (spec.rfind("msh:", 0) == 0) {
    // A Gmsh file with the DFG groups (the DOLFINx peer writes one: bench/peers/dfg_dolfinx.py).
    using surro::mesh::NodeType;
    mesh = surro::mesh::read_msh(spec.substr(4), {{"inlet", NodeType::inflow},
                                                 {"outlet", NodeType::outflow},
                                                 {"walls", NodeType::wall},
                                                 {"cylinder", NodeType::wall}});
  } else {
    mesh = surro::test::channel_mesh(std::atoi(spec.c_str()));
  }
  surro::solvers::fem::ChannelSample s;
  s.nu = 1e-3;
  s.u_max = which == 1 ? 0.3 : 1.5;
  s.ramp = which == 3;
  Kokkos::Timer timer;
  const std::clock_t cpu0 = std::clock();  // CPU time: on a shared machine wall time includes waiting
  surro::solvers::fem::ChannelRun run;
  run.dt = dt;
  run.steps = std::llround(t_end / dt);
  run.record_every = run.steps;  // fields are not used: record the start and the end only
  const auto r = surro::solvers::fem::solve_channel_flow({&mesh}, {s}, run);
  const double seconds = timer.seconds();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const auto& cd = r.drag[0];
  const auto& cl = r.lift[0];
  const auto& dp = r.delta_p[0];
  double iterations = 0;
  for (int it : r.pressure_iterations[0]) iterations += it;
  iterations /= static_cast<double>(r.pressure_iterations[0].size());
  std::printf("pressure_cg_mean=%.0f ", iterations);
  std::printf(
      "case=2D-%d mesh=%s vertices=%lld cells=%lld dt=%g t_end=%g steps=%zu seconds=%.1f seconds_per_step=%.5f "
      "cpu_seconds_per_step=%.5f ",
      which, spec.c_str(), mesh.num_points(), mesh.num_cells(), dt, t_end, cd.size(), seconds,
      seconds / static_cast<double>(cd.size()), cpu_seconds / static_cast<double>(cd.size()));
  if (which == 1) {
    // Steadiness: the largest change of c_D over the last tenth of the steps.
    double change = 0;
    for (std::size_t k = cd.size() - cd.size() / 10; k < cd.size(); ++k)
      change = std::max(change, std::fabs(cd[k] - cd.back()));
    std::printf("c_D_change_last_tenth=%.2e ", change);
    std::printf("c_D=%.6f c_L=%.6f dp=%.6f err_c_D=%.2e err_c_L=%.2e err_dp=%.2e\n", cd.back(), cl.back(),
                dp.back(), cd.back() / 5.57953523384 - 1, cl.back() / 0.010618948146 - 1,
                dp.back() / 0.11752016697 - 1);
  } else {
    std::size_t id = 0, il = 0;
    for (std::size_t k = 0; k < cd.size(); ++k) {
      if (cd[k] > cd[id]) id = k;
      if (cl[k] > cl[il]) il = k;
    }
    std::printf(
        "max_c_D=%.6f t=%.5f max_c_L=%.6f t=%.5f dp_end=%.6f (ref 2.950921575 t=3.93625, 0.47795 "
        "t=5.693125, -0.1116)\n",
        cd[id], r.step_times[id], cl[il], r.step_times[il], dp.back());
  }
  return 0;
}
