// The cylinder_flow solver's own pieces: the Strouhal number, the per-sample draws and the config
// checks. The flow solver itself is verified in test_navier_stokes_fem.cpp (Taylor-Green orders,
// DFG 2D-1); the jobs (simulate, generate resumed and re-batched to the same bits) in
// tests/app/mesh_jobs_test.sh.
#include "core/config.hpp"
#include "core/constants.hpp"
#include "core/error.hpp"
#include "solvers/cylinder_flow.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace surro;

namespace {


solvers::CylinderFlowSettings parse(const std::string& text) {
  const config::json j = config::json::parse(text);
  config::Node n(j, "cyl.json", "solver", nullptr);
  return solvers::read_cylinder_flow(n);
}

}  // namespace

TEST_CASE("cylinder_flow: Strouhal number of a periodic lift", "[cylinder_flow]") {
  // c_L = 0.3 + sin(2 pi f t + 0.4) sampled every h over 7.3 periods: the upward crossings of the
  // mean are interpolated linearly, with an error O(h^2 f^2) in each crossing's time, which the
  // average over 7 periods leaves at about (2 pi f h)^2 / 8 relative: 1e-5 at f h = 1/1000.
  const double f = 3.1, h = 1.0 / (1000 * f), d = 0.1, u = 1.0;
  std::vector<double> t, lift;
  for (int k = 0; k * h * f < 7.3; ++k) {
    t.push_back(0.2 + k * h);
    lift.push_back(0.3 + std::sin(2 * kPi * f * t.back() + 0.4));
  }
  const double st = solvers::strouhal_number(t, lift, d, u);
  CHECK(std::fabs(st - f * d / u) < 1e-5 * f * d / u);
  // Fewer than two whole periods: not periodic.
  const std::size_t n = static_cast<std::size_t>(1.5 / (f * h));
  CHECK(std::isnan(
      solvers::strouhal_number({t.begin(), t.begin() + n}, {lift.begin(), lift.begin() + n}, d, u)));
  // A monotone signal has no crossing.
  std::vector<double> ramp(t.size());
  for (std::size_t k = 0; k < t.size(); ++k) ramp[k] = t[k];
  CHECK(std::isnan(solvers::strouhal_number(t, ramp, d, u)));
  CHECK_THROWS_AS(solvers::strouhal_number(t, {1.0, 2.0}, d, u), Error);
}

TEST_CASE("cylinder_flow: draws stay in their ranges and define U_m by the Reynolds number",
          "[cylinder_flow]") {
  solvers::CylinderFlowSettings s = parse(R"({"mesh_size": 0.08, "mesh_size_obstacle": 0.02, "dt": 0.01,
                                             "record_dt": 0.01, "steps": 1, "spinup": 0})");
  CHECK(s.substeps() == 1);
  auto solver = solvers::make_cylinder_flow(s);
  const data::DatasetSpec& spec = solver->spec();
  CHECK(spec.on_mesh);
  REQUIRE(spec.fields.size() == 2);
  CHECK(spec.fields[0].components == 2);
  CHECK(spec.fields[1].components == 1);
  // Mesh generation only (no time step is needed to check the draws): run one step of 3 samples.
  const data::Block b = solver->run(11, 5, 3, nullptr);
  REQUIRE(b.meshes.size() == 3);
  const auto& p = b.sample_parameters;
  for (int i = 0; i < 3; ++i) {
    CHECK(p.at("cylinder_x")[i] >= s.cylinder_x[0]);
    CHECK(p.at("cylinder_x")[i] <= s.cylinder_x[1]);
    CHECK(p.at("cylinder_y")[i] >= s.cylinder_y[0]);
    CHECK(p.at("cylinder_y")[i] <= s.cylinder_y[1]);
    CHECK(p.at("radius")[i] >= s.radius[0]);
    CHECK(p.at("radius")[i] <= s.radius[1]);
    CHECK(p.at("reynolds")[i] >= s.reynolds[0]);
    CHECK(p.at("reynolds")[i] <= s.reynolds[1]);
    // Re = Ubar D / nu with Ubar = 2 U_m / 3: exact up to rounding.
    const double re = (2.0 / 3.0) * p.at("u_max")[i] * 2.0 * p.at("radius")[i] / s.viscosity;
    CHECK(std::fabs(re - p.at("reynolds")[i]) < 1e-12 * re);
    const long long v = b.meshes[i].num_points();
    CHECK(static_cast<long long>(b.meshes[i].node_type.size()) == v);
  }
  // Different samples, different cylinders.
  CHECK(p.at("cylinder_x")[0] != p.at("cylinder_x")[1]);
  // The same sample alone: the same draws and mesh.
  const data::Block alone = solver->run(11, 6, 1, nullptr);
  CHECK(alone.sample_parameters.at("radius")[0] == p.at("radius")[1]);
  CHECK(alone.meshes[0].points == b.meshes[1].points);
}

TEST_CASE("cylinder_flow: config errors name the key", "[cylinder_flow]") {
  CHECK_THROWS_WITH(parse(R"({"dt": 0.003})"),
                    Catch::StartsWith("cyl.json: solver.record_dt: expected a multiple of dt = 0.003"));
  CHECK_THROWS_WITH(parse(R"({"radius": [0.06, 0.05]})"),
                    Catch::StartsWith("cyl.json: solver.radius: expected a range"));
  CHECK_THROWS_WITH(parse(R"({"inflow": "pulse"})"), Catch::Contains("solver.inflow"));
  // A cylinder that the ranges allow to touch the wall.
  CHECK_THROWS_AS(parse(R"({"cylinder_y": [0.05, 0.25]})"), Error);
}
