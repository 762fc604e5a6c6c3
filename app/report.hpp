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
//     and the ParaView render of the rollout when the folder holds one: compare.png, as
//     `pvpython compare.py --png` saves it (checked as a PNG first: app/png_file.hpp; a file that
//     fails is named in a warning and left out), its caption from the PNG's Description text;
//   always: the build (version, git commit) that wrote the report.
// Host only: no Kokkos.
#include <string>

namespace surro::app {

struct ReportArgs {
  std::string dir;       // the folder reported on; report.html is written there
  std::string training;  // the training run's folder ("" = dir itself when it holds history.csv, else
                         // the folder of rollout.hdf5's surro_checkpoint when that exists)
  std::string paraview;  // pvpython to render <dir>/compare.png with <dir>/compare.py first ("" = no);
                         // on an Xvfb of its own when $DISPLAY is unset and Xvfb is on PATH
  double paraview_timeout = 300;  // seconds the render may take; then it is stopped
};

// The file names in a rollout folder: the render surro report embeds, and the render's log.
inline const char* const kParaviewPngName = "compare.png";
inline const char* const kParaviewLogName = "compare.log";

// Writes <dir>/report.html atomically and returns its path. With args.paraview, renders
// <dir>/compare.png first (to a temporary PNG, renamed once pvpython succeeded and the file checks).
// Errors: usage (no such folder, nothing to report), input (a file that cannot be read), runtime
// (also when the render asked for failed or timed out: the message names the command, its exit code
// or the time limit and its log; report.html is written before, without the new image).
std::string write_report(const ReportArgs& args);

// The end of train, rollout and eval: writes the report and logs where; a failure is logged as a
// warning and never propagates (the job's own outputs are complete by then).
void report_after_job(const ReportArgs& args) noexcept;

}  // namespace surro::app
