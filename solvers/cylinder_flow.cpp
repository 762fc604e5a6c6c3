// Flow past a cylinder on Gmsh meshes, solved by the Taylor–Hood IPCS solver (see cylinder_flow.hpp).
#include "solvers/cylinder_flow.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"
#include "mesh/gmsh_io.hpp"
#include "solvers/fem/navier_stokes.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

namespace surro::solvers {
namespace {

// Philox indices of a sample's draws (stream = sample index).
enum Draw : std::uint64_t { draw_x = 0, draw_y = 1, draw_radius = 2, draw_reynolds = 3 };

double draw(const rng::Philox& philox, long long sample, Draw what, const std::array<double, 2>& range) {
  if (range[0] == range[1]) return range[0];
  const double u = philox.uniform<double>(static_cast<std::uint64_t>(sample), what);
  return range[0] + u * (range[1] - range[0]);
}

// A per-sample draw: geometry and flow.
struct SampleDraw {
  mesh::ChannelGeometry geometry;
  double reynolds = 0, u_max = 0;
};

class CylinderFlow final : public Solver {
 public:
  explicit CylinderFlow(const CylinderFlowSettings& s) : m_s(s) {
    m_spec.on_mesh = true;
    m_spec.dims = {"x", "y"};
    m_spec.fields = {{"velocity", true, 2}, {"pressure", true, 1}};
    for (long long k = 0; k < s.steps; ++k)
      m_spec.times.push_back(s.spinup + static_cast<double>(k) * s.record_dt);
    m_spec.parameters = {{"length", s.length},   {"height", s.height}, {"viscosity", s.viscosity},
                         {"density", s.density}, {"dt", s.dt},         {"record_dt", s.record_dt},
                         {"spinup", s.spinup}};
  }

  const data::DatasetSpec& spec() const override { return m_spec; }

  SampleDraw sample(std::uint64_t seed, long long i) const {
    const rng::Philox philox{seed};
    SampleDraw d;
    d.geometry.length = m_s.length;
    d.geometry.height = m_s.height;
    d.geometry.cx = draw(philox, i, draw_x, m_s.cylinder_x);
    d.geometry.cy = draw(philox, i, draw_y, m_s.cylinder_y);
    d.geometry.radius = draw(philox, i, draw_radius, m_s.radius);
    if (m_s.mesh_size > 0) d.geometry.size = m_s.mesh_size;
    if (m_s.mesh_size_obstacle > 0) d.geometry.size_obstacle = m_s.mesh_size_obstacle;
    d.reynolds = draw(philox, i, draw_reynolds, m_s.reynolds);
    // Re = Ubar D / nu with Ubar = 2 U_m / 3 (the parabolic profile's mean).
    d.u_max = 1.5 * d.reynolds * m_s.viscosity / (2.0 * d.geometry.radius);
    return d;
  }

  data::Block run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) override {
    data::Block block;
    block.first = first;
    block.count = count;
    std::vector<fem::ChannelSample> samples;
    for (long long b = 0; b < count; ++b) {
      const SampleDraw d = sample(seed, first + b);
      block.meshes.push_back(m_s.mesh_file.empty() ? mesh::generate_channel(d.geometry) : file_mesh());
      fem::ChannelSample s;
      s.nu = m_s.viscosity;
      s.rho = m_s.density;
      s.u_max = d.u_max;
      s.ramp = m_s.inflow == "dfg_2d3";
      s.ramp_time = m_s.inflow == "steady" ? m_s.ramp_time : 0.0;
      s.height = m_s.height;
      s.diameter = 2.0 * d.geometry.radius;
      // DFG's probes: the cylinder's front and back points.
      s.probes = {d.geometry.cx - d.geometry.radius, d.geometry.cy, d.geometry.cx + d.geometry.radius,
                  d.geometry.cy};
      samples.push_back(s);
      const std::pair<const char*, double> params[] = {
          {"viscosity", m_s.viscosity}, {"density", m_s.density},      {"u_max", d.u_max},
          {"reynolds", d.reynolds},     {"cylinder_x", d.geometry.cx}, {"cylinder_y", d.geometry.cy},
          {"radius", d.geometry.radius}};
      for (const auto& [name, value] : params) block.sample_parameters[name].push_back(value);
    }
    std::vector<const mesh::Mesh*> meshes;
    for (const auto& m : block.meshes) meshes.push_back(&m);

    const long long per_record = m_s.substeps();
    const long long first_record = std::llround(m_s.spinup / m_s.dt);
    const long long total = first_record + (m_s.steps - 1) * per_record;
    fem::ChannelRun run;
    run.dt = m_s.dt;
    run.steps = total;
    run.first_record = first_record;
    run.record_every = per_record;
    run.tolerance = m_s.tolerance;
    run.max_iterations = static_cast<int>(m_s.max_iterations);
    run.pressure_amg = m_s.preconditioner == "amg";
    const fem::ChannelResult r = fem::solve_channel_flow(meshes, samples, run);
    for (long long b = 0; b < count; ++b) {
      auto& u = block.fields["velocity"];
      u.insert(u.end(), r.velocity[b].begin(), r.velocity[b].end());
      auto& p = block.fields["pressure"];
      p.insert(p.end(), r.pressure[b].begin(), r.pressure[b].end());
    }
    if (diag) fill_diagnostics(r, samples, first_record, diag);
    return block;
  }

 private:
  // The user's mesh, read once, its groups renamed to the roles solve_channel_flow looks up.
  const mesh::Mesh& file_mesh() {
    if (m_file_mesh.num_points() == 0) {
      static const char* const roles[4] = {"inlet", "outlet", "walls", "cylinder"};
      const int types[4] = {mesh::inflow, mesh::outflow, mesh::wall, mesh::wall};
      std::map<std::string, int> table;
      for (int k = 0; k < 4; ++k) table[m_s.groups[k]] = types[k];
      m_file_mesh = mesh::read_msh(m_s.mesh_file, table);
      for (auto& [tag, name] : m_file_mesh.tag_names)
        for (int k = 0; k < 4; ++k)
          if (name == m_s.groups[k]) name = roles[k];
    }
    return m_file_mesh;
  }

  // Functionals at every step from the first recorded frame on (the spin-up is left out), and the
  // Strouhal number of each sample's lift over that window.
  void fill_diagnostics(const fem::ChannelResult& r, const std::vector<fem::ChannelSample>& samples,
                        long long first_record, Diagnostics* diag) const {
    diag->names = {"drag_coefficient", "lift_coefficient", "pressure_difference", "pressure_iterations"};
    diag->values.assign(diag->names.size(), {});
    const std::size_t from = static_cast<std::size_t>(std::max<long long>(first_record - 1, 0));
    diag->times.assign(r.step_times.begin() + static_cast<long>(from), r.step_times.end());
    for (std::size_t b = 0; b < samples.size(); ++b) {
      const std::vector<double>* series[] = {&r.drag[b], &r.lift[b], &r.delta_p[b]};
      for (int k = 0; k < 3; ++k)
        diag->values[k].insert(diag->values[k].end(), series[k]->begin() + static_cast<long>(from),
                               series[k]->end());
      for (std::size_t s = from; s < r.pressure_iterations[b].size(); ++s)
        diag->values[3].push_back(r.pressure_iterations[b][s]);
      std::vector<double> lift(r.lift[b].begin() + static_cast<long>(from), r.lift[b].end());
      const double ubar = 2.0 * samples[b].u_max / 3.0;
      diag->scalars["strouhal"].push_back(strouhal_number(diag->times, lift, samples[b].diameter, ubar));
      diag->scalars["reynolds"].push_back(ubar * samples[b].diameter / samples[b].nu);
    }
  }

  CylinderFlowSettings m_s;
  data::DatasetSpec m_spec;
  mesh::Mesh m_file_mesh;  // empty until file_mesh() reads mesh_file
};

}  // namespace

long long CylinderFlowSettings::substeps() const {
  return std::llround(record_dt / dt);
}

double strouhal_number(const std::vector<double>& times, const std::vector<double>& lift, double diameter,
                       double mean_velocity) {
  SURRO_REQUIRE(times.size() == lift.size(), "strouhal_number: " << times.size() << " times and "
                                                                 << lift.size()
                                                                 << " lift values: expected as many");
  if (lift.size() < 3) return std::nan("");
  double mean = 0;
  for (double v : lift) mean += v;
  mean /= static_cast<double>(lift.size());
  // Upward crossings of the mean, located by linear interpolation between samples.
  std::vector<double> crossings;
  for (std::size_t k = 1; k < lift.size(); ++k) {
    const double a = lift[k - 1] - mean, b = lift[k] - mean;
    if (a < 0 && b >= 0) crossings.push_back(times[k - 1] + (times[k] - times[k - 1]) * (-a / (b - a)));
  }
  if (crossings.size() < 3) return std::nan("");  // fewer than two full periods: not periodic
  const double period = (crossings.back() - crossings.front()) / static_cast<double>(crossings.size() - 1);
  return diameter / (period * mean_velocity);
}

CylinderFlowSettings read_cylinder_flow(config::Node& n) {
  CylinderFlowSettings s;
  const auto range = [&](const char* key, const std::array<double, 2>& fallback) {
    const std::vector<double> v =
        n.get_number_array(key, {fallback[0], fallback[1]}, config::positive_number());
    if (v.size() != 2 || !(v[0] <= v[1]))
      n.fail(key, "expected a range [low, high] of two positive numbers with low <= high");
    return std::array<double, 2>{v[0], v[1]};
  };
  s.length = n.get_number("length", s.length, config::positive_number());
  s.height = n.get_number("height", s.height, config::positive_number());
  s.cylinder_x = range("cylinder_x", s.cylinder_x);
  s.cylinder_y = range("cylinder_y", s.cylinder_y);
  s.radius = range("radius", s.radius);
  s.reynolds = range("reynolds", s.reynolds);
  s.viscosity = n.get_number("viscosity", s.viscosity, config::positive_number());
  s.density = n.get_number("density", s.density, config::positive_number());
  s.inflow = n.get_string("inflow", s.inflow, config::one_of({"steady", "dfg_2d3"}));
  s.ramp_time =
      n.get_number("ramp_time", s.ramp_time, {[](const double& v) { return v >= 0; }, "a number >= 0"});
  const config::Check<double> size_check{[](const double& v) { return v >= 0; },
                                         "a non-negative number (0: the Gmsh defaults)"};
  s.mesh_size = n.get_number("mesh_size", s.mesh_size, size_check);
  s.mesh_size_obstacle = n.get_number("mesh_size_obstacle", s.mesh_size_obstacle, size_check);
  s.mesh_file = n.get_string("mesh_file", s.mesh_file);
  {
    config::Node g = n.child("groups");
    static const char* const roles[4] = {"inlet", "outlet", "walls", "cylinder"};
    for (int k = 0; k < 4; ++k) s.groups[k] = g.get_string(roles[k], s.groups[k]);
    g.finish();
  }
  if (!s.mesh_file.empty()) {
    if (!std::filesystem::is_regular_file(s.mesh_file))
      n.fail("mesh_file", "expected a Gmsh .msh file, got \"" + s.mesh_file + "\" (no such file)");
    for (const auto* key : {"cylinder_x", "cylinder_y", "radius"}) {
      const auto& r = std::string(key) == "cylinder_x"   ? s.cylinder_x
                      : std::string(key) == "cylinder_y" ? s.cylinder_y
                                                         : s.radius;
      if (r[0] != r[1])
        n.fail(key,
               "expected a fixed value [a, a] with mesh_file: the file's cylinder gives D and the probes");
    }
  }
  s.dt = n.get_number("dt", s.dt, config::positive_number());
  s.record_dt = n.get_number("record_dt", s.record_dt, config::positive_number());
  s.steps = n.get_int("steps", s.steps, config::positive());
  s.spinup = n.get_number("spinup", s.spinup, {[](const double& v) { return v >= 0; }, "a number >= 0"});
  s.tolerance = n.get_number("tolerance", s.tolerance,
                             {[](const double& v) { return v > 0 && v < 1; }, "a number in (0, 1)"});
  s.max_iterations = n.get_int("max_iterations", s.max_iterations, config::positive());
  s.preconditioner = n.get_string("preconditioner", s.preconditioner, config::one_of({"amg", "jacobi"}));
  const auto multiple = [&](const char* key, double value) {
    const double q = value / s.dt;
    if (std::abs(q - std::llround(q)) > 1e-9 * std::max(1.0, q))
      n.fail(key, "expected a multiple of dt = " + format_number(s.dt) + ", got " + format_number(value));
  };
  multiple("record_dt", s.record_dt);
  multiple("spinup", s.spinup);
  // Every geometry the ranges allow must fit the channel: check the extreme corners.
  for (double x : s.cylinder_x)
    for (double y : s.cylinder_y)
      for (double r : s.radius) {
        mesh::ChannelGeometry g;
        g.length = s.length;
        g.height = s.height;
        g.cx = x;
        g.cy = y;
        g.radius = r;
        if (s.mesh_size > 0) g.size = s.mesh_size;
        if (s.mesh_size_obstacle > 0) g.size_obstacle = s.mesh_size_obstacle;
        mesh::validate_channel(g, n.path().empty() ? "solver" : n.path());
      }
  n.finish();
  return s;
}

std::unique_ptr<Solver> make_cylinder_flow(const CylinderFlowSettings& settings) {
  return std::make_unique<CylinderFlow>(settings);
}

std::unique_ptr<Solver> make_cylinder_flow(config::Node& node) {
  return make_cylinder_flow(read_cylinder_flow(node));
}

}  // namespace surro::solvers
