// Darcy 2D (5-point finite differences, batched Jacobi-PCG): second-order convergence on a
// manufactured solution, CG residuals checked independently, the thresholded GRF coefficient and its
// DCT synthesis, bitwise determinism over batch splits, config validation and the dataset spec.
// The solver runs on surro::ExecSpace; references are computed on the host from copied-back data.
#include "core/constants.hpp"
#include "core/rng.hpp"
#include "solvers/darcy2d.hpp"
#include "solvers/solver.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace surro;
using namespace surro::solvers;

namespace {

template <class F>
View3<double> node_field(index_t batch, int n, F&& value) {
  View3<double> v("test::darcy::field", batch, n, n);
  auto m = Kokkos::create_mirror_view(v);
  const double h = 1.0 / (n - 1);
  for (index_t b = 0; b < batch; ++b)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) m(b, i, j) = value(i * h, j * h);
  Kokkos::deep_copy(v, m);
  return v;
}

template <class V>
auto host_mirror(const V& v) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
}

DarcySettings settings(int grid, int record_grid, double tolerance = 1e-10) {
  DarcySettings s;
  s.grid = grid;
  s.record_grid = record_grid;
  s.tolerance = tolerance;
  return s;
}

// Manufactured solution: a = 1 + x y, u = sin(pi x) sin(pi y), f = -div(a grad u)
//   = 2 pi^2 a u - pi (y cos(pi x) sin(pi y) + x sin(pi x) cos(pi y)).
double exact_u(double x, double y) {
  return std::sin(kPi * x) * std::sin(kPi * y);
}
double smooth_a(double x, double y) {
  return 1.0 + x * y;
}
double smooth_f(double x, double y) {
  return 2.0 * kPi * kPi * smooth_a(x, y) * exact_u(x, y) -
         kPi * (y * std::cos(kPi * x) * std::sin(kPi * y) + x * std::sin(kPi * x) * std::cos(kPi * y));
}

// Max nodal error of the manufactured problem on an n x n grid.
double manufactured_error(int n) {
  Darcy2D solver(settings(n, n));
  std::vector<CgReport> report;
  const auto u =
      host_mirror(solver.solve(node_field(1, n, smooth_a), node_field(1, n, smooth_f), 0, &report));
  CHECK(report[0].residual <= 1e-10);
  const double h = 1.0 / (n - 1);
  double err = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) err = std::max(err, std::abs(u(0, i, j) - exact_u(i * h, j * h)));
  return err;
}

// |h^2 f - A u| / |h^2 f| of sample b, recomputed on the host with the arithmetic face means.
template <class H>
double host_relative_residual(const H& a, const H& u, int b, double f) {
  const int n = static_cast<int>(a.extent(1));
  const double h2 = 1.0 / double(n - 1) / double(n - 1);
  double rr = 0, bb = 0;
  for (int i = 1; i < n - 1; ++i)
    for (int j = 1; j < n - 1; ++j) {
      const double c = a(b, i, j);
      const double ae = 0.5 * (c + a(b, i + 1, j)), aw = 0.5 * (c + a(b, i - 1, j));
      const double an = 0.5 * (c + a(b, i, j + 1)), as = 0.5 * (c + a(b, i, j - 1));
      const double au = (ae + aw + an + as) * u(b, i, j) - ae * u(b, i + 1, j) - aw * u(b, i - 1, j) -
                        an * u(b, i, j + 1) - as * u(b, i, j - 1);
      rr += (h2 * f - au) * (h2 * f - au);
      bb += h2 * f * h2 * f;
    }
  return std::sqrt(rr / bb);
}

}  // namespace

TEST_CASE("darcy: a manufactured solution converges at second order", "[darcy]") {
  // The flux-form stencil with arithmetic face means is consistent to O(h^2) for smooth a (the mean
  // is a(x_{i+1/2}) + O(h^2), the centred differences are O(h^2)), and the M-matrix is stable in the
  // max norm, so the nodal error is C h^2 + O(h^4): at h = 1/32 .. 1/128 the observed order is
  // within 2 +- 0.1. The CG tolerance 1e-10 puts the algebraic error ~1e-10 |u|, far below C h^2.
  const std::vector<int> grids = {33, 65, 129};
  std::vector<double> errors;
  for (int n : grids) errors.push_back(manufactured_error(n));
  for (std::size_t k = 1; k < grids.size(); ++k) {
    const double order = std::log2(errors[k - 1] / errors[k]);
    INFO("n = " << grids[k] << ": max error " << errors[k] << ", observed order " << order);
    CHECK(std::abs(order - 2.0) <= 0.1);
  }
}

TEST_CASE("darcy: CG reaches the requested relative residual", "[darcy]") {
  const int n = 65;
  for (double tol : {1e-6, 1e-9, 1e-11}) {
    CAPTURE(tol);
    Darcy2D solver(settings(n, n, tol));
    const View3<double> a = solver.coefficient(21, 0, 3);
    const View3<double> f = node_field(3, n, [](double, double) { return 1.0; });
    std::vector<CgReport> report;
    const View3<double> u = solver.solve(a, f, 0, &report);
    const auto ah = host_mirror(a), uh = host_mirror(u);
    REQUIRE(report.size() == 3);
    for (int b = 0; b < 3; ++b) {
      CHECK(report[b].iterations > 0);
      CHECK(report[b].residual <= tol);
      // Recomputed independently: differs from the solver's value by the round-off of one
      // operator application, ~eps |A| |u| / |h^2 f| ~ 1e-13 here.
      CHECK(host_relative_residual(ah, uh, b, 1.0) <= tol + 1e-12);
    }
  }
  // Too few iterations: the error names the sample (first + b) and its residual.
  DarcySettings s = settings(n, n);
  s.max_iterations = 3;
  Darcy2D short_solver(s);
  const View3<double> a = short_solver.coefficient(21, 5, 2);
  try {
    short_solver.solve(a, node_field(2, n, [](double, double) { return 1.0; }), 5, nullptr);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
    CHECK_THAT(e.what(),
               Catch::StartsWith("darcy_2d: sample 5: CG did not reach the relative residual 1e-10 in 3 "
                                 "iterations (darcy_2d.max_iterations): relative residual "));
  }
}

TEST_CASE("darcy: the coefficient takes only the two values, from the cosine-series GRF", "[darcy]") {
  // The FFT synthesis (a DCT-I through a real inverse FFT of size 2(n-1)) equals the direct
  // Karhunen-Loeve cosine sum with the same Philox draws. The FFT's error is ~eps log2(M^2) times
  // sum |Z|; we allow 1e-13 sum |Z|.
  const int n = 9;
  DarcySettings s = settings(n, n);
  Darcy2D solver(s);
  const std::uint64_t seed = 77;
  const auto z = host_mirror(solver.random_field(seed, 3, 2));
  const rng::Philox philox{seed};
  for (int b = 0; b < 2; ++b) {
    double worst = 0, sum_abs = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double direct = 0;
        for (int k1 = 0; k1 < n; ++k1)
          for (int k2 = 0; k2 < n; ++k2) {
            if (k1 == 0 && k2 == 0) continue;
            const double lambda = std::pow(kPi * kPi * (k1 * k1 + k2 * k2) + s.tau * s.tau, -s.alpha);
            const double c = (k1 ? std::sqrt(2.0) : 1.0) * (k2 ? std::sqrt(2.0) : 1.0);
            const double zk = std::sqrt(lambda) * c * philox.normal<double>(3 + b, k1 * n + k2);
            if (i == 0 && j == 0) sum_abs += std::abs(zk);
            direct += zk * std::cos(kPi * k1 * i / (n - 1)) * std::cos(kPi * k2 * j / (n - 1));
          }
        worst = std::max(worst, std::abs(z(b, i, j) - direct));
      }
    CHECK(worst <= 1e-13 * sum_abs);
  }

  // Thresholding: only a_high and a_low, both present over a few samples.
  s = settings(65, 65);
  s.a_high = 5.0;
  s.a_low = 0.5;
  const auto a = host_mirror(Darcy2D(s).coefficient(1, 0, 4));
  std::size_t high = 0, low = 0;
  for (std::size_t i = 0; i < a.span(); ++i) {
    high += a.data()[i] == 5.0;
    low += a.data()[i] == 0.5;
  }
  CHECK(high + low == a.span());
  CHECK(high > 0);
  CHECK(low > 0);
}

TEST_CASE("darcy: sample i depends only on (seed, i), bit for bit", "[darcy]") {
  Darcy2D solver(settings(33, 17));
  Diagnostics d_all, d_lo, d_hi;
  const data::Block all = solver.run(9, 0, 4, &d_all);
  const data::Block lo = solver.run(9, 0, 2, &d_lo), hi = solver.run(9, 2, 2, &d_hi);
  for (const char* name : {"a", "u"}) {
    CAPTURE(name);
    const std::vector<float>& whole = all.fields.at(name);
    REQUIRE(whole.size() == std::size_t(4 * 17 * 17));
    std::vector<float> joined = lo.fields.at(name);
    joined.insert(joined.end(), hi.fields.at(name).begin(), hi.fields.at(name).end());
    CHECK(joined == whole);
  }
  CHECK(d_all.names == std::vector<std::string>{"cg_iterations", "cg_residual"});
  CHECK(d_all.times.empty());
  for (int c = 0; c < 2; ++c) {
    std::vector<double> joined = d_lo.values[c];
    joined.insert(joined.end(), d_hi.values[c].begin(), d_hi.values[c].end());
    CHECK(joined == d_all.values[c]);
  }
  CHECK(solver.run(10, 0, 4, nullptr).fields.at("a") != all.fields.at("a"));
}

TEST_CASE("darcy: config defaults, validation and the dataset spec", "[darcy]") {
  using config::json;
  auto make = [](const json& section) {
    config::Node node(section, "cfg.json", "solver", nullptr);
    return make_solver(node);
  };
  json resolved;
  {
    const json section = json::parse(R"({"type": "darcy_2d"})");
    config::Node node(section, "cfg.json", "solver", &resolved);
    const auto solver = make_solver(node);
    const data::DatasetSpec& spec = solver->spec();
    CHECK(spec.dims == std::vector<std::string>{"x", "y"});
    CHECK(spec.boundaries == std::vector<data::Boundary>{data::Boundary::wall, data::Boundary::wall});
    CHECK(spec.shape() == std::vector<int>{85, 85});
    CHECK(spec.coords[0][1] == 1.0 / 84);
    CHECK(spec.times.empty());
    REQUIRE(spec.fields.size() == 2);
    CHECK((spec.fields[0].name == "a" && !spec.fields[0].time_varying));
    CHECK((spec.fields[1].name == "u" && !spec.fields[1].time_varying));
  }
  CHECK(resolved == json::parse(R"({"type": "darcy_2d", "grid": 421, "record_grid": 85, "values": [12.0, 3.0],
                                    "alpha": 2.0, "tau": 3.0, "tolerance": 1e-10, "max_iterations": 8420})"));

  const auto small = make(json::parse(R"({"type": "darcy_2d", "grid": 33, "record_grid": 9})"));
  Diagnostics diag;
  const data::Block block = small->run(0, 0, 2, &diag);
  CHECK(block.fields.at("a").size() == std::size_t(2 * 9 * 9));
  CHECK(block.fields.at("u").size() == std::size_t(2 * 9 * 9));
  REQUIRE(diag.values.size() == 2);
  CHECK(diag.values[0].size() == 2);
  CHECK(diag.values[1][0] <= 1e-10);

  CHECK_THROWS_WITH(make(json::parse(R"({"type": "darcy_2d", "record_grid": 50})")),
                    "cfg.json: solver.record_grid: expected nr >= 2 with (grid - 1) / (nr - 1) an integer "
                    "(grid = 421), got 50");
  CHECK_THROWS_WITH(make(json::parse(R"({"type": "darcy_2d", "values": [12]})")),
                    Catch::StartsWith("cfg.json: solver.values: expected two positive numbers"));
  CHECK_THROWS_WITH(make(json::parse(R"({"type": "darcy_2d", "values": [12, -3]})")),
                    "cfg.json: solver.values[1]: expected a positive number, got -3");
  CHECK_THROWS_WITH(make(json::parse(R"({"type": "darcy_2d", "tolerance": 0})")),
                    "cfg.json: solver.tolerance: expected a number in (0, 1), got 0");
}
