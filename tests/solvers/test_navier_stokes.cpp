// 2D Navier-Stokes: exact Taylor-Green decay, observed orders of both schemes, the initial GRF's
// spectrum, conservation of the mean, determinism across batch splits, and the stability bound.
#include "solvers/navier_stokes2d.hpp"
#include "core/fft.hpp"
#include "operators/harness.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace surro;
using solvers::NavierStokes2DConfig;

namespace {

NavierStokes2DConfig small(int grid, double nu, double t_final, double dt, const std::string& scheme) {
  NavierStokes2DConfig c;
  c.grid = c.record_grid = grid;
  c.viscosity = nu;
  c.t_final = t_final;
  c.record_steps = 1;
  c.dt = dt;
  c.scheme = scheme;
  return c;
}

// The recorded final frame (float), as double.
std::vector<double> final_frame(const NavierStokes2DConfig& c, std::uint64_t seed = 1, long long first = 0,
                                long long count = 1) {
  auto solver = solvers::make_navier_stokes_2d(c);
  const data::Block b = solver->run(seed, first, count, nullptr);
  const auto& v = b.fields.at("vorticity");
  const std::size_t frame = std::size_t(c.grid) * c.grid;
  std::vector<double> out;
  for (long long s = 0; s < count; ++s)
    out.insert(out.end(), v.begin() + (s * 2 + 1) * frame, v.begin() + (s * 2 + 2) * frame);
  return out;
}

// Energies from the diagnostics of a taylor_green run, at t = 0 and t_final.
std::pair<double, double> tg_enstrophy(const NavierStokes2DConfig& c) {
  auto solver = solvers::make_navier_stokes_2d(c);
  solvers::Diagnostics d;
  solver->run(0, 0, 1, &d);
  return {d.values[1][0], d.values[1][1]};
}

}  // namespace

TEST_CASE("ns2d: Taylor-Green vorticity decays as exp(-2 nu k^2 t)", "[ns2d]") {
  // Unforced, k = 2 pi: the advection term vanishes identically, so only Crank-Nicolson's error
  // on the decay remains: relative error ~ (lambda dt)^2 lambda t / 12 with lambda = 8 pi^2 nu
  // = 0.079, i.e. 4e-13 at dt = 1e-4, plus round-off of the FFTs over 1e4 steps. Enstrophy is
  // quadratic, so it decays at twice the rate.
  NavierStokes2DConfig c = small(32, 1e-3, 1.0, 1e-4, "crank_nicolson");
  c.forcing = "none";
  c.initial = "taylor_green";
  const auto [z0, z1] = tg_enstrophy(c);
  const double want = z0 * std::exp(-2.0 * 8.0 * M_PI * M_PI * c.viscosity * 1.0);
  CHECK(z0 == Approx(0.125).epsilon(1e-14));  // <(cos cos)^2> / 2 = 1/8
  CHECK(std::abs(z1 - want) / want < 1e-10);
}

TEST_CASE("ns2d: Crank-Nicolson is second order on the viscous decay", "[ns2d]") {
  // Large nu so the time error dominates round-off; exact decay known in closed form.
  NavierStokes2DConfig c = small(16, 0.02, 1.0, 0.1, "crank_nicolson");
  c.forcing = "none";
  c.initial = "taylor_green";
  const double lambda = 2.0 * 8.0 * M_PI * M_PI * c.viscosity;  // enstrophy decay rate
  std::vector<double> err;
  for (double dt : {0.1, 0.05, 0.025}) {
    c.dt = dt;
    const auto [z0, z1] = tg_enstrophy(c);
    err.push_back(std::abs(z1 - z0 * std::exp(-lambda)) / (z0 * std::exp(-lambda)));
  }
  for (int i = 0; i + 1 < 3; ++i) {
    const double order = std::log2(err[i] / err[i + 1]);
    CAPTURE(err, order);
    CHECK(std::abs(order - 2.0) < 0.1);
  }
}

TEST_CASE("ns2d: observed orders with advection: 1 for the FNO scheme, 4 for IF-RK4", "[ns2d]") {
  // A random initial condition strong enough (sigma x 20: max velocity 0.8) that advection
  // matters, with forcing. Errors are relative L2 of the final vorticity in double against IF-RK4
  // at dt = 0.02 / 64, whose own error ((1/64)^4 below the coarsest IF-RK4 step's, ~1e-13) is
  // negligible, so each ratio of successive errors measures the tested scheme's order.
  NavierStokes2DConfig c = small(32, 1e-2, 0.5, 0.02 / 64, "ifrk4");
  c.grf_sigma = 20.0 * std::pow(c.grf_tau, c.grf_alpha - 1.0);
  const auto ref = solvers::navier_stokes_2d_final_vorticity(c, 1, 0, 1);
  for (const auto& [scheme, order_want, dt0] :
       {std::tuple<std::string, double, double>{"crank_nicolson", 1.0, 0.005},
        std::tuple<std::string, double, double>{"ifrk4", 4.0, 0.02}}) {
    c.scheme = scheme;
    std::vector<double> err;
    for (double f : {1.0, 0.5, 0.25}) {
      c.dt = dt0 * f;
      err.push_back(test::layers::rel_l2(solvers::navier_stokes_2d_final_vorticity(c, 1, 0, 1), ref));
    }
    for (int i = 0; i + 1 < 3; ++i) {
      const double order = std::log2(err[i] / err[i + 1]);
      CAPTURE(scheme, err, order);
      CHECK(std::abs(order - order_want) < 0.1);
    }
  }
}

TEST_CASE("ns2d: the initial GRF has the prescribed spectrum", "[ns2d]") {
  // E|W_k|^2 = S_k^2 per mode. |W_k|^2 / S_k^2 has mean 1 and variance 1 (complex modes,
  // exponential) or 2 (real modes, chi^2_1); averaged over M samples and the modes of a shell its
  // standard error is at most sqrt(2 / (M * modes)). We check each shell's mean within 5 of them.
  NavierStokes2DConfig c = small(32, 1e-3, 1.0, 1e-3, "crank_nicolson");
  c.record_steps = 1;
  c.t_final = 1e-3;
  const int n = c.grid, h = n / 2 + 1, M = 64;
  auto solver = solvers::make_navier_stokes_2d(c);
  const data::Block b = solver->run(99, 0, M, nullptr);
  const auto& v = b.fields.at("vorticity");

  // Spectrum of each recorded t = 0 frame (float -> double: relative error 6e-8, negligible).
  HostExec host;
  fft::RealFftPlan<double, HostExec> plan(host, {n, n}, 1, fft::Norm::backward);
  View2<double, HostMem> w("w", n, n);
  View2<Complex<double>, HostMem> w_hat("w_hat", n, h);
  const double sigma = std::pow(c.grf_tau, c.grf_alpha - 1.0);
  std::vector<double> sum(n, 0.0);
  std::vector<int> modes(n, 0);
  for (int s = 0; s < M; ++s) {
    for (int i = 0; i < n * n; ++i) w.data()[i] = v[std::size_t(s) * 2 * n * n + i];
    plan.forward(host, w, w_hat);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < h; ++j) {
        if (i == 0 && j == 0) continue;
        const double kx = i < n / 2 ? i : i - n, ky = j;
        const double S =
            n * n * std::sqrt(2.0) * sigma *
            std::pow(4 * M_PI * M_PI * (kx * kx + ky * ky) + c.grf_tau * c.grf_tau, -c.grf_alpha / 2);
        const int shell = static_cast<int>(std::lround(std::sqrt(kx * kx + ky * ky)));
        if (shell >= n / 2) continue;
        sum[shell] +=
            (w_hat(i, j).real() * w_hat(i, j).real() + w_hat(i, j).imag() * w_hat(i, j).imag()) / (S * S);
        modes[shell] += 1;
      }
  }
  for (int shell = 1; shell < n / 2; ++shell) {
    const double mean = sum[shell] / modes[shell];
    CAPTURE(shell, mean, modes[shell]);
    CHECK(std::abs(mean - 1.0) <= 5 * std::sqrt(2.0 / modes[shell]));  // modes counts all M samples
  }
}

TEST_CASE("ns2d: the initial GRF is the same function on every grid (shared modes agree)", "[ns2d]") {
  // Normalized Fourier coefficients W_k / N^2 of sample s's t = 0 frame at 32^2 and 64^2 agree for
  // every mode both grids hold, Nyquist rows and columns excepted. The frames are float32: each
  // coefficient is a sum of N^2 values rounded at 6e-8 relative, so 1e-6 of the largest
  // coefficient bounds the difference; different draws differ by O(1) of it.
  auto spectrum = [](int n, std::uint64_t seed) {
    NavierStokes2DConfig c = small(n, 1e-3, 1e-3, 1e-3, "crank_nicolson");
    auto solver = solvers::make_navier_stokes_2d(c);
    const data::Block b = solver->run(seed, 3, 1, nullptr);
    const auto& v = b.fields.at("vorticity");
    HostExec host;
    fft::RealFftPlan<double, HostExec> plan(host, {n, n}, 1, fft::Norm::forward);
    View2<double, HostMem> w("w", n, n);
    View2<Complex<double>, HostMem> w_hat("w_hat", n, n / 2 + 1);
    for (int i = 0; i < n * n; ++i) w.data()[i] = v[i];
    plan.forward(host, w, w_hat);
    return w_hat;
  };
  const auto a = spectrum(32, 7), b = spectrum(64, 7), other = spectrum(64, 8);
  double largest = 0, diff = 0, diff_other = 0;
  for (int kx = -15; kx <= 15; ++kx)
    for (int ky = 0; ky <= 15; ++ky) {
      const Complex<double> wa = a((kx + 32) % 32, ky), wb = b((kx + 64) % 64, ky),
                            wo = other((kx + 64) % 64, ky);
      largest = std::max(largest, Kokkos::abs(wb));
      diff = std::max(diff, Kokkos::abs(wa - wb));
      diff_other = std::max(diff_other, Kokkos::abs(wo - wb));
    }
  CHECK(diff <= 1e-6 * largest);
  CHECK(diff_other > 0.1 * largest);
}

TEST_CASE("ns2d: mean vorticity stays zero; batch splits and reruns are bit-identical", "[ns2d]") {
  NavierStokes2DConfig c = small(32, 1e-3, 0.05, 1e-3, "crank_nicolson");
  const auto all = final_frame(c, 5, 0, 4);
  std::vector<double> split = final_frame(c, 5, 0, 2);
  const auto rest = final_frame(c, 5, 2, 2);
  split.insert(split.end(), rest.begin(), rest.end());
  REQUIRE(all == split);
  REQUIRE(all == final_frame(c, 5, 0, 4));
  CHECK(all != final_frame(c, 6, 0, 4));
  // The forcing and the advection term have zero mean; the mean mode is never touched: the
  // recorded mean is float round-off of O(1) values (6e-8) averaged over the grid.
  const std::size_t frame = 32 * 32;
  for (int s = 0; s < 4; ++s) {
    double mean = 0, scale = 0;
    for (std::size_t i = 0; i < frame; ++i) {
      mean += all[s * frame + i];
      scale = std::max(scale, std::abs(all[s * frame + i]));
    }
    CHECK(std::abs(mean / frame) < 1e-6 * scale);
  }
}

TEST_CASE("ns2d: a time step above the stability bound is refused with the bound", "[ns2d]") {
  NavierStokes2DConfig c = small(64, 1e-3, 1.0, 0.5, "crank_nicolson");
  auto solver = solvers::make_navier_stokes_2d(c);
  CHECK_THROWS_WITH(solver->run(1, 0, 1, nullptr),
                    Catch::Contains("time step dt = 0.5 violates the stability bound dt <= "));
}

TEST_CASE("ns2d: config validation names the key", "[ns2d]") {
  auto parse = [](const std::string& text) {
    const config::json j = config::json::parse(text);
    config::Node n(j, "ns.json", "solver", nullptr);
    return solvers::read_navier_stokes_2d(n);
  };
  CHECK(parse(R"({"viscosity": 1e-4})").viscosity == 1e-4);
  CHECK_THROWS_WITH(parse(R"({"grid": 100, "record_grid": 64})"),
                    "ns.json: solver.record_grid: expected a divisor of grid = 100, got 64");
  CHECK_THROWS_WITH(parse(R"({"dt": 0.3})"),
                    Catch::StartsWith("ns.json: solver.dt: expected a step that divides"));
  CHECK_THROWS_WITH(
      parse(R"({"scheme": "rk3"})"),
      "ns.json: solver.scheme: expected one of \"crank_nicolson\", \"ifrk4\", got the string \"rk3\"");
}

TEST_CASE("ns2d: Kolmogorov forcing drives the exact laminar shear flow", "[ns2d]") {
  // From rest, forcing f = -2 pi n A cos(2 pi n y) excites only the shear mode w = c(t) cos(2 pi n y),
  // on which advection vanishes: c' = -nu (2 pi n)^2 c - 2 pi n A, so
  //   c(t) = -A / (2 pi n nu) (1 - exp(-nu (2 pi n)^2 t)).
  // IF-RK4 is exact on the viscous part; on the forcing it is Simpson's rule applied to
  // d/dt (e^{lambda t} c) = e^{lambda t} F, with relative error (lambda h)^5 / 2880 per step:
  // lambda h = nu (2 pi n)^2 dt = 0.0158 gives 3e-13 per step, 3e-11 over 100 steps. We allow
  // 1e-10 of max |w| on the double-precision final field.
  NavierStokes2DConfig c = small(32, 1e-2, 1.0, 1e-2, "ifrk4");
  c.forcing = "kolmogorov";
  c.forcing_amplitude = 0.5;
  c.forcing_wavenumber = 2;
  c.initial = "taylor_green";
  c.tg_amplitude = 0.0;  // start from rest
  const auto w = solvers::navier_stokes_2d_final_vorticity(c, 0, 0, 1);
  const double k = 2 * M_PI * c.forcing_wavenumber;
  const double amp =
      -c.forcing_amplitude * k / (c.viscosity * k * k) * (1 - std::exp(-c.viscosity * k * k * 1.0));
  double err = 0, scale = std::abs(amp);
  for (int x = 0; x < 32; ++x)
    for (int y = 0; y < 32; ++y) err = std::max(err, std::abs(w[x * 32 + y] - amp * std::cos(k * y / 32.0)));
  CAPTURE(amp, err);
  CHECK(err <= 1e-10 * scale);
}
