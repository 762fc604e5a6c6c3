#pragma once
// The interface every classical solver implements, so `surro generate` and `surro simulate` drive
// them all the same way.
//
// A solver is batched: run() simulates `count` samples at once on surro::ExecSpace (a full GPU
// wants many). Sample i's initial condition and coefficients are drawn from the counter-based RNG
// with stream = sample index, so a sample's data depends only on (seed, i): the same on any batch
// split, on a resumed generation, and (to round-off) on CPU and GPU.
#include "core/config.hpp"
#include "datasets/spec.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace surro::solvers {

// Per-sample scalar time series (energy, enstrophy, CG iterations, ...) for the diagnostics CSV.
struct Diagnostics {
  std::vector<std::string> names;            // column names
  std::vector<std::vector<double>> values;   // [name][sample * T_diag + k]
  std::vector<double> times;                 // (T_diag)
  // Optional energy spectra, filled only when want_spectra is set and the solver has them:
  // spectra[sample * T_diag + k] = E(spectrum_k) at times[k].
  bool want_spectra = false;
  std::vector<double> spectrum_k;
  std::vector<std::vector<double>> spectra;
  // Per-sample scalars of the whole run (e.g. the Strouhal number): name -> (samples).
  std::map<std::string, std::vector<double>> scalars;
};

// Construction validates the config and describes the output (spec); it must not allocate Views
// or otherwise need Kokkos: `surro check` builds solvers without starting Kokkos. Device buffers
// and FFT plans are made in run().
class Solver {
 public:
  virtual ~Solver() = default;
  // Grid, recorded times, fields and parameters of what run() returns.
  virtual const data::DatasetSpec& spec() const = 0;
  // Simulates samples [first, first + count) and returns their recorded fields on the host.
  virtual data::Block run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) = 0;
};

// Builds the solver named by the section's "type" (navier_stokes_2d, burgers_1d, burgers_3d, darcy_2d,
// cylinder_flow) and
// validates its keys. Lists the valid types on an unknown one.
std::unique_ptr<Solver> make_solver(config::Node& section);
std::vector<std::string> solver_types();

}  // namespace surro::solvers
