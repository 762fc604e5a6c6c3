// Burgers 1D (ETDRK4 pseudo-spectral): exact Cole-Hopf solution, fourth-order convergence in time,
// conservation of the mean, bitwise determinism over batch splits, and the initial GRF's spectrum.
// The solver runs on surro::ExecSpace; references are computed on the host from copied-back data.
#include "solvers/burgers1d.hpp"

#include "core/constants.hpp"
#include "solvers/solver.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

using namespace surro;
using namespace surro::solvers;

namespace {

// Modified Bessel function I_n(x) by its power series (all terms positive: no cancellation).
double bessel_i(int n, double x) {
  double term = std::pow(0.5 * x, n) / std::tgamma(n + 1.0), sum = 0;
  for (int m = 0; m < 200 && term > 1e-300; ++m) {
    sum += term;
    term *= 0.25 * x * x / ((m + 1.0) * (m + 1.0 + n));
  }
  return sum;
}

// Cole-Hopf: for u0 = sin(2 pi x), u = -2 nu phi_x / phi where phi solves the heat equation with
// phi0 = exp(-(1/(2 nu)) int_0^x u0) = exp(-kappa (1 - cos 2 pi x)), kappa = 1/(4 pi nu). The
// generating function exp(kappa cos t) = I_0(kappa) + 2 sum_n I_n(kappa) cos(n t) gives
//   phi = I_0 + 2 sum_n I_n e^{-4 pi^2 n^2 nu t} cos(2 pi n x)   (the factor e^{-kappa} cancels).
// At nu = 0.1 (kappa = 0.80), I_n(kappa) < 1e-40 for n > 30: the 40-term sum is exact in double.
double cole_hopf_sine(double x, double t, double nu) {
  const double kappa = 1.0 / (4.0 * kPi * nu);
  double phi = bessel_i(0, kappa), phi_x = 0;
  for (int n = 1; n <= 40; ++n) {
    const double c = 2.0 * bessel_i(n, kappa) * std::exp(-4.0 * kPi * kPi * n * n * nu * t);
    phi += c * std::cos(2.0 * kPi * n * x);
    phi_x -= c * 2.0 * kPi * n * std::sin(2.0 * kPi * n * x);
  }
  return -2.0 * nu * phi_x / phi;
}

View2<double> to_device(const std::vector<double>& host, index_t rows, index_t cols) {
  View2<double> v("test::burgers::u0", rows, cols);
  auto m = Kokkos::create_mirror_view(v);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m(i, j) = host[i * cols + j];
  Kokkos::deep_copy(v, m);
  return v;
}

// Max over all recorded frames t_k = k/10, k = 0..10, of |u - u_exact| for u0 = sin(2 pi x).
double sine_error(int grid, double dt) {
  BurgersSettings s;
  s.grid = grid;
  s.record_grid = grid;
  s.dt = dt;
  s.record_steps = 10;
  Burgers1D solver(s);
  std::vector<double> u0(grid);
  for (int j = 0; j < grid; ++j) u0[j] = std::sin(2.0 * kPi * j / grid);
  const std::vector<double> frames = test::to_host(solver.simulate(to_device(u0, 1, grid), 0, nullptr));
  double err = 0;
  for (int k = 0; k <= 10; ++k)
    for (int j = 0; j < grid; ++j)
      err = std::max(err,
                     std::abs(frames[k * grid + j] - cole_hopf_sine(double(j) / grid, 0.1 * k, s.viscosity)));
  return err;
}

}  // namespace

TEST_CASE("burgers: matches the Cole-Hopf solution for u0 = sin(2 pi x), nu = 0.1", "[burgers]") {
  // Error budget at N = 64, h = 1e-3 (the default dt), t = 0..1:
  //  - space: the exact u is analytic; its Fourier coefficients decay like e^{-1.75 m} (measured:
  //    the error at N = 32, Mc = 10, is 2.4e-8), so at Mc = 21 the truncation is ~1e-16;
  //  - time: ETDRK4's global error C h^4, with C ~ 20 from the order study below, is 2e-11;
  //  - round-off: ~1e-15 per step, 1e4 stage evaluations: < 1e-12.
  // 1e-10 is five times the sum.
  const double err = sine_error(64, 1e-3);
  INFO("max error over t = 0, 0.1, ..., 1: " << err);
  CHECK(err < 1e-10);
}

TEST_CASE("burgers: ETDRK4 converges at fourth order in time", "[burgers]") {
  // N = 64 makes the spatial error ~1e-16 (see above), so the error is temporal. h = 1/80 .. 1/640
  // keeps it between 4e-7 and 1e-10: in the asymptotic range (at h = 1/40 the observed order is
  // still 3.8) and far above round-off. The formal order is 4; we accept 4 +- 0.2.
  const std::vector<double> steps = {1.0 / 80, 1.0 / 160, 1.0 / 320, 1.0 / 640};
  std::vector<double> errors;
  for (double h : steps) errors.push_back(sine_error(64, h));
  for (std::size_t i = 1; i < steps.size(); ++i) {
    const double order = std::log(errors[i - 1] / errors[i]) / std::log(steps[i - 1] / steps[i]);
    INFO("h = " << steps[i] << ": error " << errors[i] << ", observed order " << order);
    CHECK(std::abs(order - 4.0) <= 0.2);
  }
}

TEST_CASE("burgers: the mean is conserved to round-off and the energy decays", "[burgers]") {
  BurgersSettings s;
  s.grid = 256;
  s.record_grid = 64;
  s.record_steps = 5;
  Burgers1D solver(s);
  // GRF samples plus a constant: the mean is 0.3 and the flow is nonlinear.
  const index_t batch = 3;
  View2<double> u0 = solver.initial_condition(11, 0, batch);
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), u0);
  for (index_t i = 0; i < static_cast<index_t>(m.span()); ++i) m.data()[i] += 0.3;
  Kokkos::deep_copy(u0, m);
  Diagnostics diag;
  solver.simulate(u0, 0, &diag);
  REQUIRE(diag.names == std::vector<std::string>{"mean", "energy"});
  const int t_count = static_cast<int>(diag.times.size());
  REQUIRE(t_count == 6);
  for (index_t b = 0; b < batch; ++b) {
    const double mean0 = diag.values[0][b * t_count];
    // The scheme keeps the k = 0 coefficient exactly (e^{0} = 1, and the nonlinear term carries a
    // factor k); what remains is the round-off of one inverse FFT and an N-term sum,
    // ~eps (log2 N + N) max|u| ~ 2e-13 relative here: the 1e-12 bound.
    CHECK(std::abs(mean0 - 0.3) <= 1e-12 * 0.3);
    for (int k = 1; k < t_count; ++k) {
      CHECK(std::abs(diag.values[0][b * t_count + k] - mean0) <= 1e-12 * std::abs(mean0));
      // d/dt int u^2/2 = -nu int u_x^2 <= 0.
      CHECK(diag.values[1][b * t_count + k] < diag.values[1][b * t_count + k - 1]);
    }
  }
}

TEST_CASE("burgers: sample i depends only on (seed, i), bit for bit", "[burgers]") {
  BurgersSettings s;
  s.grid = 256;
  s.record_grid = 32;
  s.t_final = 0.2;
  s.record_steps = 2;
  Burgers1D solver(s);
  const data::Block all = solver.run(5, 0, 4, nullptr);
  const data::Block again = solver.run(5, 0, 4, nullptr);
  const data::Block lo = solver.run(5, 0, 2, nullptr), hi = solver.run(5, 2, 2, nullptr);
  const std::vector<float>& u = all.fields.at("u");
  REQUIRE(u.size() == std::size_t(4 * 3 * 32));
  CHECK(u == again.fields.at("u"));
  std::vector<float> joined = lo.fields.at("u");
  joined.insert(joined.end(), hi.fields.at("u").begin(), hi.fields.at("u").end());
  CHECK(joined == u);
  CHECK(all.first == 0);
  CHECK(hi.first == 2);
  CHECK(hi.count == 2);
  // The double-precision trajectories too, not only their float32 rounding.
  const std::vector<double> d_all =
      test::to_host(solver.simulate(solver.initial_condition(5, 0, 4), 0, nullptr));
  std::vector<double> d_split = test::to_host(solver.simulate(solver.initial_condition(5, 0, 2), 0, nullptr));
  const std::vector<double> d_hi =
      test::to_host(solver.simulate(solver.initial_condition(5, 2, 2), 2, nullptr));
  d_split.insert(d_split.end(), d_hi.begin(), d_hi.end());
  CHECK(d_split == d_all);
  // Another seed gives other data.
  CHECK(solver.run(6, 0, 4, nullptr).fields.at("u") != u);
}

TEST_CASE("burgers: the initial GRF has the prescribed spectrum", "[burgers]") {
  BurgersSettings s;  // sigma 25, tau 5, alpha 2: lambda_m = 625 (4 pi^2 m^2 + 25)^-2
  s.grid = 64;
  s.record_grid = 64;
  Burgers1D solver(s);
  const int n = s.grid, mc = solver.retained_modes();
  const index_t samples = 4000;
  const std::vector<double> u = test::to_host(solver.initial_condition(123, 0, samples));
  // |u_hat_m|^2 / lambda_m = (xi_1^2 + xi_2^2)/2 is Exp(1): mean 1, standard deviation 1, so the
  // sample mean over S draws has standard error 1/sqrt(S). Four standard errors per mode: with
  // 21 modes the chance of a false failure is about 21 * 6e-5 ~ 1e-3.
  const double tol = 4.0 / std::sqrt(double(samples));
  double max_outside = 0, max_inside = 0;
  std::vector<std::complex<double>> twiddle(n);  // e^{-2 pi i j / N} / N
  for (int j = 0; j < n; ++j) twiddle[j] = std::polar(1.0 / n, -2.0 * kPi * j / n);
  for (int m = 0; m <= n / 2; ++m) {
    double power = 0;
    for (index_t b = 0; b < samples; ++b) {
      std::complex<double> c = 0;
      for (int j = 0; j < n; ++j) c += u[b * n + j] * twiddle[(m * j) % n];
      power += std::norm(c);
    }
    power /= samples;
    const double lambda = s.sigma * s.sigma * std::pow(4.0 * kPi * kPi * m * m + s.tau * s.tau, -s.alpha);
    if (m == 0 || m > mc) {
      max_outside = std::max(max_outside, power);
    } else {
      max_inside = std::max(max_inside, lambda);
      INFO("mode " << m << ": mean |u_hat|^2 / lambda = " << power / lambda);
      CHECK(std::abs(power / lambda - 1.0) <= tol);
    }
  }
  // The mean mode and the modes outside the 2/3 band are zero up to the FFT's round-off.
  CHECK(max_outside <= 1e-26 * max_inside);
}

TEST_CASE("burgers: config defaults, validation and the dataset spec", "[burgers]") {
  using config::json;
  auto make = [](const json& section) {
    config::Node node(section, "cfg.json", "solver", nullptr);
    return make_solver(node);
  };
  const std::vector<std::string> types = solver_types();
  CHECK(std::count(types.begin(), types.end(), "burgers_1d") == 1);
  CHECK(std::count(types.begin(), types.end(), "darcy_2d") == 1);
  const auto solver = make(json::parse(R"({"type": "burgers_1d", "grid": 256, "record_grid": 64,
                                           "record_steps": 4, "t_final": 0.5})"));
  const data::DatasetSpec& spec = solver->spec();
  CHECK(spec.dims == std::vector<std::string>{"x"});
  CHECK(spec.boundaries == std::vector<data::Boundary>{data::Boundary::periodic});
  REQUIRE(spec.coords.size() == 1);
  CHECK(spec.coords[0].size() == 64);
  CHECK(spec.coords[0][1] == 1.0 / 64);
  CHECK(spec.times == std::vector<double>{0.0, 0.125, 0.25, 0.375, 0.5});
  REQUIRE(spec.fields.size() == 1);
  CHECK(spec.fields[0].name == "u");
  CHECK(spec.fields[0].time_varying);
  CHECK(spec.parameters.at("viscosity") == 0.1);
  const data::Block block = solver->run(0, 3, 2, nullptr);
  CHECK(block.fields.at("u").size() == std::size_t(2 * 5 * 64));

  // The internal step divides the record interval.
  BurgersSettings s;
  s.grid = 64;
  s.record_grid = 64;
  s.dt = 0.03;
  s.record_steps = 10;
  Burgers1D coarse(s);
  CHECK(coarse.step() == Approx(0.1 / 4).epsilon(1e-14));
  // Initial data far above the config's amplitude (6 GRF standard deviations ~ 3.6) is re-checked
  // at its own amplitude: at max|u0| = 50 the bound is ~4.9 nu / 50^2 = 2e-4 < h = 0.025.
  std::vector<double> big(2 * s.grid);
  for (int j = 0; j < s.grid; ++j) {
    big[j] = std::sin(2.0 * kPi * j / s.grid);
    big[s.grid + j] = 50.0 * std::sin(2.0 * kPi * j / s.grid);
  }
  CHECK_THROWS_WITH(coarse.simulate(to_device(big, 2, s.grid), 7, nullptr),
                    Catch::StartsWith("burgers_1d: sample 8: max|u0| = 50 needs an internal step <= 0.000"));

  CHECK_THROWS_WITH(make(json::parse(R"({"type": "burgers_1d", "grid": 256, "dt": 0.1})")),
                    Catch::StartsWith("cfg.json: solver.dt: expected dt <= 0.038") &&
                        Catch::Contains("ETDRK4 stability bound for grid 256"));
  CHECK_THROWS_WITH(make(json::parse(R"({"type": "burgers_1d", "grid": 256, "record_grid": 100})")),
                    "cfg.json: solver.record_grid: expected a positive divisor of grid = 256, got 100");
  CHECK_THROWS_WITH(make(json::parse(R"({"type": "burgers_1d", "viscosty": 0.1})")),
                    Catch::StartsWith("cfg.json: solver.viscosty: unknown key (did you mean 'viscosity'?)"));
  CHECK_THROWS_WITH(
      make(json::parse(R"({"type": "burgers"})")),
      Catch::StartsWith("cfg.json: solver.type: unknown solver type 'burgers'; valid types: ") &&
          Catch::Contains("burgers_1d") && Catch::Contains("darcy_2d"));
}
