// surro simulate: one trajectory of a classical solver, written for ParaView and for plotting:
//
//   <output_dir>/<name>.pvd + <name>_NNNNNN.vti   every recorded frame, point data per field
//                                                  (.vtu on the sample's mesh for mesh solvers)
//   <output_dir>/diagnostics.csv                   time and the solver's scalar diagnostics
//   <output_dir>/spectrum.csv                      energy spectra (solvers that provide them)
//   <output_dir>/summary.json                      whole-run scalars (cylinder_flow: Strouhal number)
//   <output_dir>/config.json                       the resolved config
//   <output_dir>/.incomplete                       only while unfinished (failed, killed or running)
//
// The sample index selects the same initial condition `surro generate` gives trajectory i.
#include "app/commands.hpp"
#include "app/run_config.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "core/types.hpp"
#include "mesh/vtk_writer.hpp"
#include "solvers/solver.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

namespace surro::app {

namespace {

// The trajectory as a ParaView series: .vti on grids, .vtu on the sample's mesh (fields with C
// components, (T, V, C) per frame).
void write_series(const std::string& dir, const std::string& name, const data::DatasetSpec& spec,
                  const data::Block& block) {
  std::unique_ptr<mesh::VtkSeries> series;
  long long points = spec.points();
  if (spec.on_mesh) {
    series = std::make_unique<mesh::VtkMeshSeries>(dir, name, block.meshes.at(0));
    points = block.meshes.at(0).num_points();
  } else {
    std::vector<double> origin, spacing;
    for (const auto& c : spec.coords) {
      origin.push_back(c.empty() ? 0.0 : c[0]);
      spacing.push_back(c.size() > 1 ? c[1] - c[0] : 1.0);
    }
    series = std::make_unique<mesh::VtkGridSeries>(dir, name, origin, spacing, spec.shape());
  }
  const std::vector<double> times = spec.times.empty() ? std::vector<double>{0.0} : spec.times;
  series->write_steps(times, [&](std::size_t k, mesh::VtkStepFields& fields) {
    for (const auto& f : spec.fields) {
      const long long frame = points * f.components;  // values of one frame
      const float* base = block.fields.at(f.name).data();
      fields.point.emplace_back(f.name, f.time_varying ? base + k * frame : base, f.components, points);
    }
  });
  series->finish();
}

}  // namespace

void run_simulate(const JobArgs& args) {
  JobSections job;
  const ResolvedConfig cfg = resolve_config(args.config, args.sets,
                                            [&](config::Node& root) { job = read_job_sections(root, true); });
  solvers::Solver* solver = job.solver.get();
  const SimulateSection sim = job.simulate;
  check_output_dir("run.output_dir", cfg.run.output_dir);
  SURRO_LOG_INFO("resolved config (" << cfg.file << "):\n" << cfg.resolved.dump(2));
  const data::DatasetSpec& spec = solver->spec();

  Kokkos::Timer timer;
  solvers::Diagnostics diag;
  diag.want_spectra = true;
  const data::Block block = solver->run(cfg.run.seed, sim.sample, 1, &diag);
  const double t_solve = timer.seconds();
  SURRO_LOG_INFO("simulated sample " << sim.sample << " on " << ExecSpace::name() << " in " << t_solve
                                     << " s");

  const std::string dir = cfg.run.output_dir;
  save_resolved_config(cfg);
  io::begin_output(dir);  // .incomplete until the last file is written (core/io.hpp)

  // Diagnostics and spectra as CSV (one row per recorded time).
  if (!diag.names.empty()) {
    std::ostringstream csv;
    csv << "time";
    for (const auto& n : diag.names) csv << ',' << n;
    csv << '\n';
    const std::size_t rows = diag.times.empty() ? 1 : diag.times.size();
    for (std::size_t k = 0; k < rows; ++k) {
      csv << (diag.times.empty() ? 0.0 : diag.times[k]);
      for (const auto& col : diag.values) csv << ',' << col[k];
      csv << '\n';
    }
    io::write_text_atomic(dir + "/diagnostics.csv", csv.str());
  }
  if (!diag.spectra.empty()) {
    std::ostringstream csv;
    csv << "time,k,energy\n";
    for (std::size_t k = 0; k < diag.spectra.size(); ++k)
      for (std::size_t s = 0; s < diag.spectrum_k.size(); ++s)
        csv << diag.times[k] << ',' << diag.spectrum_k[s] << ',' << diag.spectra[k][s] << '\n';
    io::write_text_atomic(dir + "/spectrum.csv", csv.str());
  }

  if (!diag.scalars.empty()) {  // whole-run scalars of the one sample, e.g. the Strouhal number
    config::json summary = config::json::object();
    for (const auto& [name, values] : diag.scalars) {
      const double v = values.at(0);
      summary[name] = std::isfinite(v) ? config::json(v) : config::json(nullptr);
      SURRO_LOG_INFO(name << " = " << (std::isfinite(v) ? std::to_string(v) : std::string("undefined")));
    }
    io::write_text_atomic(dir + "/summary.json", summary.dump(2) + "\n");
  }
  if (sim.vtk) write_series(dir, cfg.run.name, spec, block);
  io::end_output(dir);
  SURRO_LOG_INFO("wrote " << dir << "/" << cfg.run.name << ".pvd, diagnostics.csv"
                          << (diag.spectra.empty() ? "" : ", spectrum.csv") << ", config.json");
}

}  // namespace surro::app
