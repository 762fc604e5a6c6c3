// Throughput of the 2D Navier-Stokes solver: grid points x steps per second, batched.
//
// run() builds FFT plans and buffers, then steps. Timing two runs of n1 and n2 steps and taking
// (n2 - n1) / (t2 - t1) cancels setup and the two records, leaving the cost of a step.
// Usage: bench_ns2d GRID BATCH SCHEME [N1 N2]   prints one line: key=value pairs.
// SURRO_PROFILE=1: then one more run of N1 steps under the fenced profiler, its table on stderr.
#include "core/profile.hpp"
#include "solvers/navier_stokes2d.hpp"

#include <Kokkos_Core.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_ns2d GRID BATCH SCHEME [N1 N2]\n");
    return 2;
  }
  surro::solvers::NavierStokes2DConfig c;
  c.grid = std::atoi(argv[1]);
  c.record_grid = c.grid;
  const long long batch = std::atoll(argv[2]);
  c.scheme = argv[3];
  const long long n1 = argc > 4 ? std::atoll(argv[4]) : 20, n2 = argc > 5 ? std::atoll(argv[5]) : 120;
  c.dt = 1e-4;
  c.record_steps = 1;
  auto timed = [&](long long steps) {
    c.t_final = steps * c.dt;
    auto solver = surro::solvers::make_navier_stokes_2d(c);
    Kokkos::fence();
    Kokkos::Timer t;
    solver->run(7, 0, batch, nullptr);
    Kokkos::fence();
    return t.seconds();
  };
  timed(n1);  // warm-up: library handles, module load
  const double t1 = timed(n1), t2 = timed(n2);
  const double per_step = (t2 - t1) / double(n2 - n1);
  const double points = double(c.grid) * c.grid * batch;
  std::printf("impl=surro space=%s grid=%d batch=%lld scheme=%s step_ms=%.4f points_steps_per_s=%.4e\n",
              Kokkos::DefaultExecutionSpace::name(), c.grid, batch, c.scheme.c_str(), per_step * 1e3,
              points / per_step);
  if (const char* env = std::getenv("SURRO_PROFILE"); env && std::string(env) == "1") {
    surro::profile::enable();
    surro::profile::reset();
    timed(n1);
    std::fprintf(stderr, "%s", surro::profile::report(40).c_str());
  }
  return 0;
}
