#pragma once
// Rollout metrics, computed on the device and returned to the host in double.
//
//   relative L2 : ||pred - ref||_2 / ||ref||_2 over one frame of one sample (all channels and
//                 points), and over a sample's whole trajectory (sums over every step first)
//   RMSE        : sqrt(mean (pred - ref)^2)
//   spectrum    : isotropic energy spectrum of a 2D periodic scalar field,
//                 E(k) = sum over integer shells k = round(|(kx, ky)|) of |f_hat(kx, ky)|^2 with
//                 f_hat the Fourier coefficients (f = sum f_hat e^{2 pi i (kx x + ky y)}, FFT
//                 Norm::forward), so sum_k E(k) = mean(f^2) (Parseval).
//   spectrum error: RMS over shells 1 .. min(Nx, Ny) / 2 of log10(E_pred / E_ref), in decades.
//                 Log spectra because turbulent spectra span many decades: an L2 of the raw
//                 spectra is set by the few energetic low-k shells and does not see the high-k
//                 tail that autoregressive surrogates lose first; a log difference weighs every
//                 shell's relative error alike. RMS (not ||.||/||log E_ref||) because log E_ref
//                 changes sign with the units, so dividing by its norm is not scale-invariant.
//                 Shell 0 (the mean), the corner shells beyond min(Nx, Ny) / 2 (only partly
//                 inside the grid) and shells whose reference energy is below 1e-10 of the total
//                 (unresolved by float32 data; e.g. the dealiased band of solver output) are left
//                 out; predicted energies are floored at 1e-30 * sum_k E_ref(k) so an empty
//                 predicted shell gives a large finite error.
#include "core/types.hpp"

#include <memory>
#include <string>
#include <vector>

namespace surro::op {

// Per-row sums of squares, rows = frames: err2[r] = sum_i (pred - ref)^2, ref2[r] = sum_i ref^2
// over the n elements of row r. pred, ref: (rows, n) on Exec's memory space. Host results.
template <class Exec>
void squared_sums(const Exec& exec, long long rows, long long n, const float* pred, const float* ref,
                  std::vector<double>& err2, std::vector<double>& ref2);

// Accumulated errors of `samples` trajectories of `steps` frames of n elements each, then the
// means a report gives. Fill per (sample, step), either at once (trajectory_errors) or step by
// step during a rollout (add_step).
struct EvalReport {
  int samples = 0, steps = 0;
  long long frame_size = 0;        // n: C * points
  std::vector<double> err2, ref2;  // (B, T) sums of squares, the raw material
  // Derived by finalize():
  std::vector<double> rel_l2;             // (B, T)
  std::vector<double> rmse;               // (B, T)
  std::vector<double> rel_l2_step_mean;   // (T) mean over samples
  std::vector<double> rmse_step_mean;     // (T) sqrt(mean over samples of MSE)
  std::vector<double> rel_l2_trajectory;  // (B) over each whole trajectory
  double rel_l2_mean = 0.0;               // mean over samples of rel_l2_trajectory
  double rmse_overall = 0.0;              // over every element of every trajectory
  // Optional (2D scalar fields): spectrum error per (sample, step); empty when not computed.
  std::vector<double> spectrum_error;            // (B, T)
  std::vector<double> spectrum_error_step_mean;  // (T)
  double spectrum_error_mean = 0.0;

  EvalReport() = default;
  EvalReport(int samples, int steps, long long frame_size);
  // Fills the derived fields from err2, ref2 (and spectrum_error when non-empty).
  void finalize();
};

// Errors of one step for every sample, with buffers planned once for a rollout loop:
// pred, ref (B, n) on Exec; add() writes report.err2/ref2[b, step] and allocates nothing.
template <class Exec>
class StepErrors {
 public:
  StepErrors(int batch, long long n);
  void add(const Exec& exec, EvalReport& report, int step, const float* pred, const float* ref);

 private:
  int m_batch;
  long long m_n;
  View2<double, typename Exec::memory_space> m_out;                    // (B, 2)
  typename View2<double, typename Exec::memory_space>::HostMirror m_host;  // (B, 2)
};

// One-shot form of StepErrors::add (allocates its buffers): for occasional use, not in a loop.
template <class Exec>
void add_step(const Exec& exec, EvalReport& report, int step, const float* pred, const float* ref);

// pred, ref: (B, T, n) on Exec. A finalized report.
template <class Exec>
EvalReport trajectory_errors(const Exec& exec, int samples, int steps, long long n, const float* pred,
                             const float* ref);

// Isotropic energy spectra of `batch` 2D periodic scalar fields (B, Nx, Ny). Plan and buffers
// are built once; compute() allocates nothing.
template <class Exec>
class SpectrumPlan {
 public:
  SpectrumPlan(const Exec& exec, int batch, int nx, int ny);
  ~SpectrumPlan();
  SpectrumPlan(SpectrumPlan&&) noexcept;
  SpectrumPlan& operator=(SpectrumPlan&&) noexcept;
  int shells() const;  // K = floor(sqrt((Nx/2)^2 + (Ny/2)^2) + 0.5) + 1
  int batch() const;
  int kmax() const;  // min(Nx, Ny) / 2: the last complete shell
  // field: (batch, Nx, Ny) on Exec. Returns host (batch, K): E(k) per sample.
  std::vector<double> compute(const Exec& exec, const float* field) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Spectrum error (see the header comment) between two spectra of K shells; kmax = min(Nx, Ny) / 2.
double spectrum_log_error(const double* e_pred, const double* e_ref, int shells, int kmax);

// Spectrum error of one step for every sample of a scalar 2D field: pred, ref (B, Nx, Ny) on
// Exec with B = plan.batch() = report.samples. Fills report.spectrum_error[b, step] (sizing it on
// first use); finalize() then averages it.
template <class Exec>
void add_spectrum_step(const Exec& exec, EvalReport& report, const SpectrumPlan<Exec>& plan, int step,
                       const float* pred, const float* ref);

// JSON: {"samples", "steps", "frame_size", "rel_l2_mean", "rmse", "spectrum_error_mean"?,
//        "per_step": {"rel_l2": [T], "rmse": [T], "spectrum_error": [T]?},
//        "per_sample": {"rel_l2_trajectory": [B], "rel_l2": [[T]...], "rmse": [[T]...]}}
// CSV: one row per step: step,rel_l2_mean,rmse[,spectrum_error_mean]. Both written atomically.
void write_report_json(const std::string& path, const EvalReport& report);
void write_report_csv(const std::string& path, const EvalReport& report);

}  // namespace surro::op
