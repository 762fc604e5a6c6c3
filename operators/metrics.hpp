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
//
// Samples of different sizes and per-field errors (mesh data). A sample b has P_b points (grid
// points, or mesh vertices V_b) and C channels per point, grouped by a FieldLayout into F fields
// (velocity: 2 components, pressure: 1), channel-last (V, C) or channel-first (C, N...). Sums of
// squares are kept per (sample, step, field); every mean below is over the elements of a frame,
// n_b = P_b * C (n_b,f = P_b * C_f for field f), so MSE(b, t) = err2(b, t) / n_b.
//   rmse_step_mean[t]  = sqrt(mean_b MSE(b, t))                (trajectories weigh alike)
//   horizon RMSE(h)    = sqrt(mean_b (1/h) sum_{t < h} MSE(b, t)) with t = 0 the first predicted
//                        step: MeshGraphNets' cfd_eval (mean over nodes and components of the
//                        squared error over the first h predicted frames, then the mean over
//                        trajectories; their horizons 1, 10, 20, 50, 100, 200 log the MSE, the
//                        paper's tables the RMSE). Horizon 1 is the "1-step" RMSE.
//   all-rollout RMSE   = horizon RMSE(T): every predicted step.
//   rmse (overall)     = sqrt(sum over b, t of err2 / (T sum_b n_b)): pooled over every element, so
//                        large meshes weigh more; equal to the all-rollout RMSE for equal sizes.
// Per field the same formulas with err2(b, t, f) and n_b,f. The errors cover every node the
// caller passes; MeshGraphNets and graph-physics include the boundary nodes their rollouts copy
// from the reference (error 0 there), which dilutes the error: pass only predicted nodes to avoid it.
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

// The fields of a frame in channel order: names (F), components (F), C = sum of components.
// channel_last: a frame is (P, C) (mesh data, point-major); otherwise (C, P) (grid data, C, N...).
struct FieldLayout {
  std::vector<std::string> names;  // (F)
  std::vector<int> components;     // (F), each >= 1
  bool channel_last = false;
  int fields() const { return static_cast<int>(names.size()); }
  int channels() const;                // C
  int first_channel(int field) const;  // sum of the components before `field`
  bool operator==(const FieldLayout& o) const {
    return names == o.names && components == o.components && channel_last == o.channel_last;
  }
  // Throws Error(runtime) naming `where` for names and components of different lengths, an
  // empty layout, or a component count < 1.
  void validate(const std::string& where) const;
};

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
  // Optional, filled by the caller: the reference's own change since the last input frame, RMS per
  // step over the same values as rmse_step_mean (the error of holding the initial frame: a scale
  // for the prediction's error); empty when not computed.
  std::vector<double> reference_change_rms;  // (T)

  // Variable sizes and fields (see the header comment); empty for the (samples, steps, frame_size)
  // form, whose reports and files are unchanged.
  FieldLayout layout;                          // empty: one unnamed field of frame_size elements
  std::vector<long long> points;               // (B) points P_b; empty: every sample has frame_size
  std::vector<double> field_err2, field_ref2;  // (B, T, F) sums of squares per field
  std::vector<int> horizons;                   // steps h <= T reported as horizon RMSEs
  // Derived by finalize() when layout or horizons are set:
  std::vector<double> horizon_rmse;             // (H)
  double rmse_one_step = 0.0;                   // horizon 1
  double rmse_all_rollout = 0.0;                // horizon T
  std::vector<double> field_rmse;               // (B, T, F)
  std::vector<double> field_rmse_step_mean;     // (F, T)
  std::vector<double> field_horizon_rmse;       // (F, H)
  std::vector<double> field_rmse_all_rollout;   // (F)
  std::vector<double> field_rel_l2_trajectory;  // (B, F) over each whole trajectory
  std::vector<double> field_rel_l2_mean;        // (F) mean over samples

  EvalReport() = default;
  EvalReport(int samples, int steps, long long frame_size);
  // Samples of points[b] points (P_b > 0) of layout.channels() channels; frame_size is their common
  // n_b when all are equal, else 0. horizons: the steps h to report; those above `steps` are
  // dropped (default: MeshGraphNets' 1, 10, 20, 50, 100, 200). Errors: Error(runtime).
  EvalReport(int steps, std::vector<long long> points, FieldLayout layout,
             std::vector<int> horizons = {1, 10, 20, 50, 100, 200});
  // n_b: elements of one frame of sample b.
  long long sample_size(int b) const;
  // Fills the derived fields from err2, ref2 (field_err2/ref2, spectrum_error when non-empty).
  void finalize();
};

// Errors of one step for every sample, with buffers planned once for a rollout loop; add()
// allocates nothing.
template <class Exec>
class StepErrors {
 public:
  // Grid form: `batch` samples of n elements, pred, ref (B, n) on Exec; add() writes
  // report.err2/ref2[b, step] for b < batch.
  StepErrors(int batch, long long n);
  void add(const Exec& exec, EvalReport& report, int step, const float* pred, const float* ref);
  // The same in two halves, for a loop that should not wait on the device every step: launch()
  // writes the step's sums to `sums` (B, 2) on Exec (no copy, no fence); store() takes them back
  // from the host (B, 2) copy into report.err2/ref2[b, step].
  void launch(const Exec& exec, const float* pred, const float* ref, double* sums);
  void store(EvalReport& report, int step, const double* sums) const;

  // Variable-size form: up to max_batch samples per call, frames laid out by `layout`.
  StepErrors(const FieldLayout& layout, int max_batch);
  // Samples first .. first + B - 1 of the report, B = offsets.size() - 1 <= max_batch. offsets:
  // host (B + 1) point offsets, offsets[0] = 0: sample first + b owns points [offsets[b],
  // offsets[b + 1]) of pred, ref (offsets[B], C) channel-last (channel-first: its frame (C, P_b)
  // starts at element C offsets[b]). Writes err2/ref2 and, when the report has a layout (it must
  // equal this one), field_err2/ref2 at [first + b, step]. Errors: Error(runtime) for sizes that
  // differ from the report's.
  void add(const Exec& exec, EvalReport& report, int step, int first, const std::vector<long long>& offsets,
           const float* pred, const float* ref);

 private:
  using Mem = typename Exec::memory_space;
  void launch(const Exec& exec, int rows, const float* pred, const float* ref);
  void check_grid_report(const EvalReport& report, int step) const;
  FieldLayout m_layout;
  int m_batch;
  long long m_n;                  // grid form: elements per sample; 0 otherwise
  View1<index_t, Mem> m_offsets;  // (B + 1) point offsets
  typename View1<index_t, Mem>::HostMirror m_offsets_host;
  View1<int, Mem> m_first, m_comp;                 // (F) first channel, components
  View2<double, Mem> m_out;                        // (B F, 2)
  typename View2<double, Mem>::HostMirror m_host;  // (B F, 2)
};

// One-shot form of StepErrors::add (allocates its buffers): for occasional use, not in a loop.
template <class Exec>
void add_step(const Exec& exec, EvalReport& report, int step, const float* pred, const float* ref);

// pred, ref: (B, T, n) on Exec. A finalized report.
template <class Exec>
EvalReport trajectory_errors(const Exec& exec, int samples, int steps, long long n, const float* pred,
                             const float* ref);

// Variable-size form: pred, ref on Exec hold the B trajectories one after another, sample b's
// (T, P_b, C) channel-last (or (T, C, P_b)) with P_b = points[b]. A finalized report.
template <class Exec>
EvalReport trajectory_errors(const Exec& exec, int steps, const std::vector<long long>& points,
                             const FieldLayout& layout, const float* pred, const float* ref,
                             std::vector<int> horizons = {1, 10, 20, 50, 100, 200});

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
  // The same into energy (batch, K) on Exec, without a copy or a wait (the caller copies later).
  void compute_into(const Exec& exec, const float* field, double* energy) const;

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

// The same from spectra a caller has computed already (host (B, K) each, SpectrumPlan::compute), for
// a loop that also keeps them (the rollout sums them over steps): one compute per field and step.
void add_spectrum_step(EvalReport& report, int step, const std::vector<double>& e_pred,
                       const std::vector<double>& e_ref, int shells, int kmax);

// JSON: {"samples", "steps", "frame_size", "rel_l2_mean", "rmse", "spectrum_error_mean"?,
//        "per_step": {"rel_l2": [T], "rmse": [T], "spectrum_error": [T]?, "reference_change_rms": [T]?},
//        "per_sample": {"rel_l2_trajectory": [B], "rel_l2": [[T]...], "rmse": [[T]...]}}
// CSV: one row per step: step,rel_l2_mean,rmse[,spectrum_error_mean]. Both written atomically.
// Variable-size form (layout or horizons set): the JSON adds "points": [B] (when sizes vary),
//   "rmse_one_step", "rmse_all_rollout", "horizons": {"steps": [H], "rmse": [H]},
//   "fields": {name: {"components", "rmse_all_rollout", "rel_l2_mean", "horizon_rmse": [H],
//                     "per_step_rmse": [T]}}
// and the CSV one column rmse_<name> per field after rmse.
void write_report_json(const std::string& path, const EvalReport& report);
void write_report_csv(const std::string& path, const EvalReport& report);

}  // namespace surro::op
