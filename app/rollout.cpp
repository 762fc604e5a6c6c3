// surro rollout / surro eval: roll a trained model out autoregressively from the first frames of
// dataset trajectories and compare with the reference.
//
// The checkpoint is self-describing: its resolved config gives the model, the fields and the
// window length, so no other config is needed.
//
//   rollout -> <output>/rollout.pvd + .vti   prediction, reference, error of one sample (ParaView)
//              <output>/compare.py           opens them side by side in ParaView (app/paraview_script.hpp)
//              <output>/rollout.hdf5         every predicted trajectory, in the dataset layout
//              <output>/metrics.{json,csv}   relative L2 / RMSE per step and over the trajectory,
//                                            energy-spectrum error for 2D scalar fields
//   eval    -> the metrics only (files when -o is given), and the table on stdout.
//   -o      -> <output>/report.html at the end (app/report.hpp; a failure there only warns).
//   both    -> <output>/.incomplete from before the first file until after the last: a folder that
//              still has it belongs to a run that failed, was killed or is still running.
// Pair models (data.kind = pair: Darcy a -> u) predict once per trajectory: the same metrics, and
// for rollout <output>/prediction.pvd with the prediction, reference and error, and compare.py.
#include "app/commands.hpp"
#include "app/mesh_rollout.hpp"
#include "app/paraview_script.hpp"
#include "app/report.hpp"
#include "app/run_config.hpp"
#include "app/train_config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "datasets/checkpoint.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/loader.hpp"
#include "operators/metrics.hpp"
#include "app/trained_model.hpp"
#include "operators/model_surrogate.hpp"
#include "operators/rollout.hpp"
#include "operators/statistics.hpp"

#include "core/io.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>

namespace surro::app {
namespace fs = std::filesystem;

void check_finite_prediction(const std::string& checkpoint, int step, int K, long long frame,
                             const float* pred) {
  for (int s = 0; s < K; ++s)
    for (long long i = 0; i < frame; ++i)
      if (!std::isfinite(pred[std::size_t(s) * frame + i]))
        SURRO_THROW(ErrorKind::runtime,
                    checkpoint << ": the prediction "
                               << (step > 0 ? "of step " + std::to_string(step) + " " : std::string())
                               << "is not finite (sample " << s << ", value " << i << " is "
                               << pred[std::size_t(s) * frame + i]
                               << "): the model diverged; nothing was written");
}

namespace {

// SURRO_ROLLOUT_CHUNK (environment): the steps whose predictions come back to the host together
// (grid rollouts), or 0 where unset: the loop's own choice. A way to test the chunked copy with
// small data; the results do not depend on it.
int rollout_chunk_from_environment() {
  const char* env = std::getenv("SURRO_ROLLOUT_CHUNK");
  if (!env || !*env) return 0;
  char* end = nullptr;
  const long v = std::strtol(env, &end, 10);
  if (*end != '\0' || v < 1 || v > 1000000)
    SURRO_THROW(
        ErrorKind::usage,
        "SURRO_ROLLOUT_CHUNK (environment): expected a whole number of steps from 1 to 1000000, got \""
            << env << "\"");
  return static_cast<int>(v);
}

// --vtk-sample indexes the K trajectories rolled out; checked before any work or output.
void check_vtk_sample(const RolloutArgs& a, long long K) {
  if (a.write_fields && (a.vtk_sample < 0 || a.vtk_sample >= K))
    SURRO_THROW(ErrorKind::usage, "--vtk-sample " << a.vtk_sample << ": expected 0.." << K - 1 << " (the "
                                                  << K << " trajectories rolled out)");
}

// The trajectories a rollout starts from and compares with: a dataset split, or K samples simulated
// now by the solver of the dataset's generating config (or --solver-config), with --solver-set
// overrides (a finer solver.record_grid gives FNO's zero-shot super-resolution).
data::TrajectoryStore load_trajectories(const RolloutArgs& a, const TrainingSections& sec,
                                        const std::string& dataset) {
  if (a.initial != "solver") return data::load_split(dataset, a.split, sec.data.fields);
  const std::string config = a.solver_config.empty() ? dataset + "/config.json" : a.solver_config;
  if (!fs::exists(config))
    SURRO_THROW(ErrorKind::usage, "--initial solver: " << config
                                                       << " does not exist; give the generating config "
                                                       << "with --solver-config");
  JobSections job;
  resolve_config(config, a.solver_sets, [&](config::Node& root) { job = read_job_sections(root, true); });
  const long long K = a.samples > 0 ? a.samples : 1;
  SURRO_LOG_INFO("simulating " << K << " initial conditions (seed " << a.seed << ") with the solver of "
                               << config);
  const data::Block block = job.solver->run(static_cast<std::uint64_t>(a.seed), 0, K, nullptr);
  return data::store_from_block(job.solver->spec(), block, sec.data.fields, config + ":/solver");
}

// Pair models (Darcy a -> u, Burgers u(0) -> u(T)) map inputs to targets once: evaluate that one
// prediction per trajectory.
int run_pair_eval(const RolloutArgs& a, const TrainingSections& sec, const std::string& dataset) {
  const data::TrajectoryStore store = load_trajectories(a, sec, dataset);
  const int K = a.samples > 0 ? static_cast<int>(a.samples) : store.trajectories();
  if (K > store.trajectories())
    SURRO_THROW(ErrorKind::usage, "--samples " << K << ": the " << a.split << " split has "
                                               << store.trajectories() << " trajectories");
  check_vtk_sample(a, K);
  data::WindowLoader loader(store, sec.data.pair, K, 0, false, false);
  const TrainedModel trained(a.checkpoint, sec,
                             data_shape(sec, store, loader.x_channels(), loader.y_channels()));

  ExecSpace exec;
  const long long out_size = static_cast<long long>(loader.y_channels()) * store.points();
  View1<float> x("surro::eval::x", std::size_t(K) * loader.x_channels() * store.points());
  View1<float> y("surro::eval::y", std::size_t(K) * out_size),
      pred("surro::eval::pred", std::size_t(K) * out_size);
  loader.fill(exec, 0, x.data(), y.data());
  trained.make(exec, K)->forward(exec, op::grid_batch<ExecSpace>(K), trained.params(), x.data(), pred.data());
  {
    auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pred);
    check_finite_prediction(a.checkpoint, 0, K, out_size, hp.data());
  }
  op::EvalReport report = op::trajectory_errors(exec, K, 1, out_size, pred.data(), y.data());
  std::printf("%d samples of %s (%s): relative L2 %.4e (mean), RMSE %.4e\n", K, dataset.c_str(),
              a.initial == "solver" ? "simulated" : a.split.c_str(), report.rel_l2_mean, report.rmse_overall);

  if (!a.output.empty()) {
    io::begin_output(a.output);  // .incomplete until the last file is written
    op::write_report_json(a.output + "/metrics.json", report);
    op::write_report_csv(a.output + "/metrics.csv", report);
    if (a.write_fields) {
      auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pred);
      auto hy = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
      data::DatasetSpec spec = store.spec();
      spec.fields.clear();
      for (const auto& t : sec.data.pair.targets) spec.fields.push_back({t, true});
      const std::size_t off = std::size_t(a.vtk_sample) * out_size;
      const std::string pvd =
          op::write_rollout_vtk(a.output, "prediction", spec, {0.0}, hp.data() + off, hy.data() + off);
      write_paraview_compare(pvd, sec.data.pair.targets);
      SURRO_LOG_INFO("wrote " << pvd << ", " << kParaviewScriptName << ", metrics.json, metrics.csv");
    }
    io::end_output(a.output);
  }
  return 0;
}

// The training config stored in the checkpoint. A path on the command line that does not exist is a
// usage error (exit 2, README "Exit codes"); a checkpoint that exists but is damaged is bad input
// data (exit 3).
TrainingSections read_checkpoint_sections(const std::string& checkpoint) {
  if (!fs::exists(checkpoint)) SURRO_THROW(ErrorKind::usage, checkpoint << ": no such checkpoint file");
  std::string config_text;
  {
    data::h5::File f = data::h5::open_file(checkpoint);
    config_text = data::h5::read_string_attr(f, "config");
  }
  config::json stored;
  try {
    stored = config::json::parse(config_text);
  } catch (const config::json::parse_error& e) {
    SURRO_THROW(ErrorKind::input,
                checkpoint << ": /config: the stored config is not valid JSON: " << e.what());
  }
  TrainingSections sec;
  config::Node root(stored, checkpoint + ":/config", "", nullptr);
  config::Node run = root.child("run");
  read_run_section(run);
  sec = read_training_sections(root);
  root.finish();
  return sec;
}

// The output folder: not an input, not the checkpoint's run folder. Checked before any work.
void check_rollout_output(const RolloutArgs& a, const std::string& dataset) {
  if (a.output.empty()) return;
  check_output_dir("-o", a.output, {{"dataset folder", dataset}, {"checkpoint", a.checkpoint}});
  const fs::path run_dir = fs::absolute(a.checkpoint).parent_path();
  std::error_code ec;
  if (fs::exists(a.output, ec) && fs::equivalent(a.output, run_dir, ec))
    SURRO_THROW(ErrorKind::usage, "-o " << a.output << ": is the folder of the checkpoint " << a.checkpoint
                                        << "; write the rollout to a folder of its own");
}

// K trajectories and the step count, from the user's --samples, --start and --steps against the
// store (windows start at frame `start`).
std::pair<int, int> rollout_range(const RolloutArgs& a, const data::TrajectoryStore& store, int t_in) {
  const int K = a.samples > 0 ? static_cast<int>(a.samples) : store.trajectories();
  if (K > store.trajectories())
    SURRO_THROW(ErrorKind::usage, "--samples " << K << ": the " << a.split << " split has "
                                               << store.trajectories() << " trajectories");
  check_vtk_sample(a, K);
  const long long available = store.frames() - a.start - t_in;
  if (available < 1)
    SURRO_THROW(ErrorKind::usage, "--start " << a.start << ": trajectories have " << store.frames()
                                             << " frames, too few for a window of " << t_in
                                             << " and one step");
  if (a.steps > available)
    SURRO_THROW(ErrorKind::usage, "--steps "
                                      << a.steps << ": only " << available << " reference frames follow the "
                                      << "window (frames " << a.start << ".." << a.start + t_in - 1 << ")");
  return {K, static_cast<int>(a.steps > 0 ? a.steps : available)};
}

// The RMS of the reference's change since the last input frame, over K samples of n values:
// sqrt(mean over samples of mean((ref - initial)^2)), as rmse_step_mean averages the error; in a
// fixed order (samples, then values). window (K, t_in, n), ref (K, n), on the host.
double reference_change_rms(int K, long long n, const float* window, int t_in, const float* ref) {
  double sum = 0;
  for (int s = 0; s < K; ++s) {
    const float* initial = window + (std::size_t(s) * t_in + std::size_t(t_in - 1)) * std::size_t(n);
    const float* r = ref + std::size_t(s) * std::size_t(n);
    double d2 = 0;
    for (long long i = 0; i < n; ++i) d2 += (double(r[i]) - initial[i]) * (double(r[i]) - initial[i]);
    sum += d2 / double(std::max(1LL, n));
  }
  return std::sqrt(sum / std::max(1, K));
}

// What the grid rollout's loop leaves for the report and the files.
struct GridRolloutResult {
  op::EvalReport report;
  std::vector<float> pred;  // (K, steps, C, N...)
  std::unique_ptr<op::ProfileStats<ExecSpace>> stats_pred, stats_ref;
  std::vector<double> spec_pred, spec_ref;      // (shells) sums over samples and steps
  double seconds = 0;                           // stepping
  std::chrono::steady_clock::time_point start;  // the first step
  double since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

// What the grid rollout keeps of each step on the device: the predictions of up to `chunk` steps
// (copied back together, then checked step by step) and every step's error sums and spectra (read
// once after the loop), so the loop waits on the device once per chunk instead of four to six
// times a step (which held a 64² rollout's GPU idle between its short kernels). The results are
// those of a copy per step: the same kernels, the same sums in the same order.
class StepRecord {
 public:
  static constexpr long long kChunkScalars = 1LL << 24;  // predictions kept on the device
  StepRecord(int K, long long frame, int steps, const op::SpectrumPlan<ExecSpace>* spectrum)
      : m_K(K),
        m_frame(frame),
        m_steps(steps),
        m_step_n(std::size_t(K) * std::size_t(frame)),
        m_spectrum(spectrum),
        m_shells(spectrum ? spectrum->shells() : 0) {
    const long long by_memory = std::max(1LL, kChunkScalars / (static_cast<long long>(K) * frame));
    m_chunk = static_cast<int>(std::min<long long>(steps, by_memory));
    if (const int forced = rollout_chunk_from_environment(); forced > 0) m_chunk = std::min(forced, steps);
    m_pred =
        View1<float>("surro::rollout::pred_chunk", std::size_t(m_chunk) * m_step_n);  // (chunk, K, frame)
    m_pred_host = Kokkos::create_mirror_view(m_pred);
    m_sums = View1<double>("surro::rollout::step_sums", std::size_t(steps) * K * 2);  // (T, K, 2)
    m_spectra = View1<double>("surro::rollout::spectra",
                              std::size_t(steps) * 2 * K * m_shells);  // (T, 2, K, shells): pred, ref
  }

  // Step `step`'s prediction f and reference ref, (K, frame) each on the device.
  void add(const ExecSpace& exec, op::StepErrors<ExecSpace>& errors, int step, const float* f,
           const float* ref) {
    errors.launch(exec, f, ref, m_sums.data() + std::size_t(step) * m_K * 2);
    if (m_spectrum) {
      double* e = m_spectra.data() + std::size_t(step) * 2 * m_K * m_shells;
      m_spectrum->compute_into(exec, f, e);
      m_spectrum->compute_into(exec, ref, e + std::size_t(m_K) * m_shells);
    }
    Kokkos::deep_copy(exec, Kokkos::subview(m_pred, span(step % m_chunk, 1)),
                      Kokkos::View<const float*, MemSpace, Kokkos::MemoryUnmanaged>(f, m_step_n));
  }
  bool chunk_ends(int step) const { return step % m_chunk == m_chunk - 1 || step == m_steps - 1; }

  // The chunk ending at step `last` to pred (K, T, frame) on the host, each step checked finite.
  void take_chunk(const ExecSpace& exec, int last, const std::string& checkpoint, std::vector<float>& pred) {
    const int first = last - last % m_chunk, n = last - first + 1;
    Kokkos::deep_copy(exec, Kokkos::subview(m_pred_host, span(0, n)), Kokkos::subview(m_pred, span(0, n)));
    exec.fence();
    for (int step = first; step <= last; ++step) {
      const float* h = m_pred_host.data() + std::size_t(step - first) * m_step_n;
      check_finite_prediction(checkpoint, step + 1, m_K, m_frame, h);
      for (int s = 0; s < m_K; ++s)
        std::copy(h + std::size_t(s) * m_frame, h + std::size_t(s + 1) * m_frame,
                  pred.begin() + (std::size_t(s) * m_steps + step) * m_frame);
    }
  }

  // Every step's sums into report and spectra into the sums over steps, in step order.
  void finish(const ExecSpace& exec, const op::StepErrors<ExecSpace>& errors, op::EvalReport& report,
              std::vector<double>& spec_pred, std::vector<double>& spec_ref) const {
    auto sums = Kokkos::create_mirror_view(m_sums);
    auto spectra = Kokkos::create_mirror_view(m_spectra);
    Kokkos::deep_copy(exec, sums, m_sums);
    Kokkos::deep_copy(exec, spectra, m_spectra);
    exec.fence();
    const std::size_t ks = std::size_t(m_K) * m_shells;
    if (m_spectrum) {
      spec_pred.assign(std::size_t(m_shells), 0.0);
      spec_ref.assign(std::size_t(m_shells), 0.0);
    }
    for (int step = 0; step < m_steps; ++step) {
      errors.store(report, step, sums.data() + std::size_t(step) * m_K * 2);
      if (!m_spectrum) continue;
      const double* e = spectra.data() + std::size_t(step) * 2 * ks;
      const std::vector<double> ep(e, e + ks), er(e + ks, e + 2 * ks);
      op::add_spectrum_step(report, step, ep, er, m_shells, m_spectrum->kmax());
      for (std::size_t i = 0; i < ks; ++i) {
        spec_pred[i % std::size_t(m_shells)] += ep[i];
        spec_ref[i % std::size_t(m_shells)] += er[i];
      }
    }
  }

 private:
  Kokkos::pair<std::size_t, std::size_t> span(int first, int count) const {  // steps of m_pred
    return {std::size_t(first) * m_step_n, std::size_t(first + count) * m_step_n};
  }
  int m_K;
  long long m_frame;
  int m_steps;
  std::size_t m_step_n;  // K frame
  const op::SpectrumPlan<ExecSpace>* m_spectrum;
  int m_shells;
  int m_chunk = 1;
  View1<float> m_pred;
  typename View1<float>::HostMirror m_pred_host;
  View1<double> m_sums, m_spectra;
};

GridRolloutResult grid_rollout_loop(const RolloutInputs& in) {
  const RolloutArgs& a = in.args;
  const data::TrajectoryStore& store = in.store;
  const TrainedModel& trained = in.model;
  const int K = in.samples, steps = in.steps, t_in = in.t_in, C = store.channels();
  const std::string& dataset = in.dataset;
  const std::vector<int> grid = store.grid();
  ExecSpace exec;
  op::ModelSurrogate model([&](const ExecSpace& e, int batch) { return trained.make(e, batch); },
                           trained.params(), t_in * C, C, grid, K);
  SURRO_LOG_INFO("rollout: " << K << " trajectories of " << dataset << " ("
                             << (a.initial == "solver" ? "simulated" : a.split) << "), " << steps
                             << " steps from frames " << a.start << ".." << a.start + t_in - 1 << ", on "
                             << ExecSpace::name());

  // 4. Initial windows and per-step references, staged through one host buffer each.
  const long long frame = static_cast<long long>(C) * store.points();  // one sample's frame
  std::vector<float> host_window(std::size_t(K) * t_in * frame), host_ref(std::size_t(K) * frame);
  for (int s = 0; s < K; ++s)
    std::copy(store.frame(s, a.start), store.frame(s, a.start) + t_in * frame,
              host_window.begin() + std::size_t(s) * t_in * frame);
  View1<float> window("surro::rollout::window", host_window.size());  // (K, T_in * C, N...)
  Kokkos::deep_copy(exec, window,
                    Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                        host_window.data(), host_window.size()));
  View1<float> ref("surro::rollout::reference", std::size_t(K) * frame);
  auto ref_host = Kokkos::create_mirror_view(ref);

  GridRolloutResult r;
  r.report = op::EvalReport(K, steps, frame);
  op::EvalReport& report = r.report;
  std::vector<float>& pred = r.pred;
  pred.resize(std::size_t(K) * steps * frame);
  std::unique_ptr<op::SpectrumPlan<ExecSpace>> spectrum;
  if (grid.size() == 2 && C == 1)
    spectrum = std::make_unique<op::SpectrumPlan<ExecSpace>>(exec, K, grid[0], grid[1]);
  StepRecord record(K, frame, steps, spectrum.get());
  op::StepErrors<ExecSpace> step_errors(K, frame);  // buffers for the loop, once
  // Long-rollout statistics over every step and sample: per-axis profiles, and for 2D scalar
  // fields the time-averaged energy spectrum.
  r.stats_pred = std::make_unique<op::ProfileStats<ExecSpace>>(K, C, grid);
  r.stats_ref = std::make_unique<op::ProfileStats<ExecSpace>>(K, C, grid);
  op::ProfileStats<ExecSpace>& stats_pred = *r.stats_pred;
  op::ProfileStats<ExecSpace>& stats_ref = *r.stats_ref;
  r.start = std::chrono::steady_clock::now();
  std::vector<double> ref_change(steps);  // (T) sqrt(mean over samples of mean((ref_t - ref_0)^2))
  op::Rollout rollout(exec, model, K);
  rollout.run(exec, K, window.data(), steps, [&](int step, const float* f) {
    const int t = static_cast<int>(a.start) + t_in + step;
    for (int s = 0; s < K; ++s)
      std::copy(store.frame(s, t), store.frame(s, t) + frame, ref_host.data() + std::size_t(s) * frame);
    ref_change[std::size_t(step)] = reference_change_rms(K, frame, host_window.data(), t_in, ref_host.data());
    Kokkos::deep_copy(exec, ref, ref_host);
    record.add(exec, step_errors, step, f, ref.data());
    stats_pred.add(exec, f);
    stats_ref.add(exec, ref.data());
    if (record.chunk_ends(step)) record.take_chunk(exec, step, a.checkpoint, pred);
  });
  record.finish(exec, step_errors, report, r.spec_pred, r.spec_ref);
  report.finalize();
  report.reference_change_rms = std::move(ref_change);
  r.seconds = r.since_start();
  return r;
}

// The per-step table, the trajectory summary and the profile statistics on stdout; returns the
// times of the predicted steps.
std::vector<double> print_grid_report(const RolloutInputs& in, const TrainingSections& sec,
                                      GridRolloutResult& r, const op::AxisProfiles& prof_pred,
                                      const op::AxisProfiles& prof_ref) {
  const RolloutArgs& a = in.args;
  const data::TrajectoryStore& store = in.store;
  const int K = in.samples, steps = in.steps, t_in = in.t_in, C = store.channels();
  const std::vector<int> grid = store.grid();
  const op::EvalReport& report = r.report;
  const double seconds = r.seconds;
  std::printf("step   time        rel_l2      rmse%s\n",
              report.spectrum_error.empty() ? "" : "        spectrum_err");
  const auto& times_all = store.spec().times;
  std::vector<double> times;
  for (int step = 0; step < steps; ++step) {
    const int t = static_cast<int>(a.start) + t_in + step;
    const double time = t < static_cast<int>(times_all.size()) ? times_all[t] : t;
    times.push_back(time);
    if (step < 5 || step == steps - 1 || (step + 1) % std::max(1, steps / 8) == 0) {
      std::printf("%-6d %-11.4g %-11.4e %-11.4e", step + 1, time, report.rel_l2_step_mean[step],
                  report.rmse_step_mean[step]);
      if (!report.spectrum_error.empty()) std::printf(" %-11.4e", report.spectrum_error_step_mean[step]);
      std::printf("\n");
    }
  }
  std::printf("trajectory: relative L2 %.4e (mean over %d samples), RMSE %.4e", report.rel_l2_mean, K,
              report.rmse_overall);
  if (!report.spectrum_error.empty())
    std::printf(", spectrum error %.4f decades", report.spectrum_error_mean);
  std::printf("; %.2f s\n", seconds);

  {
    // One line per field: how far the time-averaged profiles along y (x in 1D) are from the
    // reference's, ||pred - ref|| / ||scale||; the mean against the reference's rms profile, as
    // statistics.json (operators/statistics.hpp).
    auto rel = [](const std::vector<double>& p, const std::vector<double>& r,
                  const std::vector<double>& scale) {
      double d2 = 0, s2 = 0;
      for (std::size_t i = 0; i < p.size(); ++i)
        d2 += (p[i] - r[i]) * (p[i] - r[i]), s2 += scale[i] * scale[i];
      return s2 > 0 ? std::sqrt(d2 / s2) : std::sqrt(d2);
    };
    const int axis = grid.size() > 1 ? 1 : 0;  // y: the wall-normal axis of channel data
    for (int c = 0; c < C; ++c)
      std::printf(
          "statistics (axis %d profiles over %d steps): %s mean %.4e (of the rms), rms %.4e (relative L2)\n",
          axis, steps, sec.data.fields[c].c_str(),
          rel(prof_pred.mean[axis][c], prof_ref.mean[axis][c], prof_ref.rms[axis][c]),
          rel(prof_pred.rms[axis][c], prof_ref.rms[axis][c], prof_ref.rms[axis][c]));
  }

  return times;
}

// metrics, statistics, spectrum, and with fields the ParaView series and rollout.hdf5.
void write_grid_outputs(const RolloutInputs& in, const TrainingSections& sec, const GridRolloutResult& r,
                        const std::vector<double>& times, const op::AxisProfiles& prof_pred,
                        const op::AxisProfiles& prof_ref) {
  const RolloutArgs& a = in.args;
  const data::TrajectoryStore& store = in.store;
  const int K = in.samples, steps = in.steps, t_in = in.t_in, C = store.channels();
  const long long frame = static_cast<long long>(C) * store.points();
  const op::EvalReport& report = r.report;
  const std::vector<float>& pred = r.pred;
  const std::vector<double>& spec_pred = r.spec_pred;
  const std::vector<double>& spec_ref = r.spec_ref;
  if (!a.output.empty()) {
    io::begin_output(a.output);  // .incomplete until the last file is written
    op::write_report_json(a.output + "/metrics.json", report);
    op::write_report_csv(a.output + "/metrics.csv", report);
    op::write_profiles(a.output + "/statistics.csv", a.output + "/statistics.json", sec.data.fields,
                       prof_pred, prof_ref);
    if (!spec_ref.empty()) {
      std::ostringstream csv;
      csv.precision(9);
      csv << "k,energy_pred,energy_ref\n";
      const double n = double(K) * steps;
      for (std::size_t k = 0; k < spec_ref.size(); ++k)
        csv << k << ',' << spec_pred[k] / n << ',' << spec_ref[k] / n << '\n';
      io::write_text_atomic(a.output + "/spectrum.csv", csv.str());
    }
    if (a.write_fields) {
      // ParaView gets steps vtk_every, 2 vtk_every, ... (numbered from 1, as printed) and always
      // the last, so the series ends where the rollout does; each keeps its true time.
      std::vector<int> vtk_steps;
      for (int step = 0; step < steps; ++step)
        if ((step + 1) % a.vtk_every == 0 || step == steps - 1) vtk_steps.push_back(step);
      const std::size_t n_vtk = vtk_steps.size();
      std::vector<float> vtk_pred(n_vtk * frame), vtk_ref(n_vtk * frame);  // (T_vtk, C, N...)
      std::vector<double> vtk_times(n_vtk);
      const float* sample_pred = pred.data() + std::size_t(a.vtk_sample) * steps * frame;  // (steps, C, N...)
      for (std::size_t i = 0; i < n_vtk; ++i) {
        const int step = vtk_steps[i];
        const float* src =
            store.frame(static_cast<int>(a.vtk_sample), static_cast<int>(a.start) + t_in + step);
        std::copy(src, src + frame, vtk_ref.begin() + i * frame);
        std::copy(sample_pred + std::size_t(step) * frame, sample_pred + std::size_t(step + 1) * frame,
                  vtk_pred.begin() + i * frame);
        vtk_times[i] = times[step];
      }
      data::DatasetSpec spec = store.spec();
      spec.fields.erase(std::remove_if(spec.fields.begin(), spec.fields.end(),
                                       [](const data::FieldSpec& f) { return !f.time_varying; }),
                        spec.fields.end());
      spec.times = times;
      record_rollout_provenance(a, in.dataset, K, spec.provenance);
      // rollout.hdf5 on a second thread while this one writes the VTK series: the two take similar
      // times (deflate in both) and share no library; HDF5 is called from that thread alone until
      // get(), both only read spec, and the future joins the thread if the VTK side throws.
      std::future<void> h5 = std::async(std::launch::async, [&a, &spec, &pred, K] {
        op::write_rollout_hdf5(a.output + "/rollout.hdf5", spec, op::rollout_block(spec, 0, K, pred.data()));
      });
      const std::string pvd =
          op::write_rollout_vtk(a.output, "rollout", spec, vtk_times, vtk_pred.data(), vtk_ref.data());
      std::vector<std::string> names;
      for (const auto& f : spec.fields) names.push_back(f.name);
      write_paraview_compare(pvd, names);
      h5.get();
      SURRO_LOG_INFO("wrote " << pvd << " (" << n_vtk << " of " << steps << " steps), " << kParaviewScriptName
                              << ", " << a.output << "/rollout.hdf5, metrics.json, metrics.csv");
    } else {
      SURRO_LOG_INFO("wrote " << a.output << "/metrics.json, metrics.csv");
    }
    io::end_output(a.output);
  }
}

}  // namespace

void record_rollout_provenance(const RolloutArgs& a, const std::string& dataset, int K,
                               std::map<std::string, std::string>& provenance) {
  provenance["checkpoint"] = a.checkpoint;
  provenance["content"] = "surrogate rollout";
  provenance["source_dataset"] = dataset;
  provenance["source_split"] =
      a.initial == "solver" ? "simulated by the solver, seed " + std::to_string(a.seed) : a.split;
  provenance["source_trajectories"] = "0.." + std::to_string(K - 1);
  provenance["source_start_frame"] = std::to_string(a.start);
}

namespace {

int rollout_job(const RolloutArgs& a) {
  if (a.vtk_every < 1)
    SURRO_THROW(ErrorKind::usage,
                "--vtk-every " << a.vtk_every << ": expected a positive integer (1 = every step)");
  const TrainingSections sec = read_checkpoint_sections(a.checkpoint);
  const std::string dataset = a.dataset.empty() ? sec.data.dataset : a.dataset;
  // Every user index and the output folder are checked before any work or output.
  check_rollout_output(a, dataset);
  if (a.samples > 0) check_vtk_sample(a, a.samples);
  if (sec.data.kind == "pair") return run_pair_eval(a, sec, dataset);

  const data::TrajectoryStore store = load_trajectories(a, sec, dataset);
  const int t_in = sec.data.window.t_in, C = store.channels();
  const auto [K, steps] = rollout_range(a, store, t_in);
  const TrainedModel trained(a.checkpoint, sec, data_shape(sec, store, t_in * C, C));
  const RolloutInputs in{a, store, trained, dataset, K, steps, t_in};
  if (store.on_mesh()) return run_mesh_rollout(in);

  GridRolloutResult r = grid_rollout_loop(in);
  ExecSpace exec;
  const op::AxisProfiles prof_pred = r.stats_pred->profiles(exec), prof_ref = r.stats_ref->profiles(exec);
  const std::vector<double> times = print_grid_report(in, sec, r, prof_pred, prof_ref);
  if (!a.output.empty()) write_grid_outputs(in, sec, r, times, prof_pred, prof_ref);
  // The rollout without start-up (Kokkos, the checkpoint, the data, planning the model), from the
  // first step to the last file written; bench/gpu/rollout.sh reads it.
  SURRO_LOG_INFO("rollout: " << r.since_start() << " s from the first step to the last output (" << r.seconds
                             << " s stepping)");
  return 0;
}

}  // namespace

int run_rollout(const RolloutArgs& a) {
  const int rc = rollout_job(a);
  // The report reads the files just written and the training run beside the checkpoint.
  if (!a.output.empty()) {
    ReportArgs report_args;
    report_args.dir = a.output;
    report_args.training = fs::absolute(a.checkpoint).parent_path().string();
    report_after_job(report_args);
  }
  return rc;
}

}  // namespace surro::app
