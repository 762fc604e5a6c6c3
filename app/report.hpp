#pragma once
// surro report: one self-contained report.html for a run folder (no network, no other file: the
// images are PNGs drawn by app/plot.cpp, embedded as data: URIs). It shows what the folder holds:
//   training run (surro train's run.output_dir): loss and learning-rate curves (history.csv), the
//     resolved config (config.json);
//   rollout / eval output (-o): error against rollout step with the reference's own change from the
//     initial frame for scale (metrics.json), energy spectra (spectrum.csv) and profiles
//     (statistics.csv) predicted against reference, snapshots of prediction, reference and error
//     (rollout.pvd / prediction.pvd: grid .vti as images, 2D mesh .vtu as triangles), and the
//     training run's curves and config when its folder is known;
//   always: the build (version, git commit) that wrote the report.
// Host only: no Kokkos.
#include <string>

namespace surro::app {

struct ReportArgs {
  std::string dir;       // the folder reported on; report.html is written there
  std::string training;  // the training run's folder ("" = dir itself when it holds history.csv, else
                         // the folder of rollout.hdf5's surro_checkpoint when that exists)
};

// Writes <dir>/report.html atomically and returns its path. Errors: usage (no such folder, nothing
// to report), input (a file that cannot be read), runtime.
std::string write_report(const ReportArgs& args);

// The end of train, rollout and eval: writes the report and logs where; a failure is logged as a
// warning and never propagates (the job's own outputs are complete by then).
void report_after_job(const ReportArgs& args) noexcept;

}  // namespace surro::app
