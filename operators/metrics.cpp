#include "operators/metrics.hpp"

#include "core/error.hpp"
#include "core/fft.hpp"
#include "core/io.hpp"
#include "core/timer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace surro::op {

namespace {

// One team per row: out(r, 0) = sum (pred - ref)^2, out(r, 1) = sum ref^2, in double.
template <class Exec>
struct RowSquaredSums {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const float* pred;
  const float* ref;
  index_t n;
  View2<double, typename Exec::memory_space> out;
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t r = team.league_rank();
    const float* p = pred + r * n;
    const float* q = ref + r * n;
    double e2 = 0.0, r2 = 0.0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, n),
        [&](const index_t i, double& acc) {
          const double d = static_cast<double>(p[i]) - static_cast<double>(q[i]);
          acc += d * d;
        },
        e2);
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, n),
        [&](const index_t i, double& acc) {
          const double v = static_cast<double>(q[i]);
          acc += v * v;
        },
        r2);
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      out(r, 0) = e2;
      out(r, 1) = r2;
    });
  }
};

// Half spectrum (B, Nx, Ny/2 + 1) -> energy (B, K): shell-summed |f_hat|^2, counting each stored
// coefficient twice when it stands for its conjugate as well (0 < ky < Ny/2).
template <class Exec>
struct ShellSum {
  const Complex<float>* hat;
  View2<double, typename Exec::memory_space> energy;
  int nx, ny, nyh;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const int iy = static_cast<int>(i % nyh);
    const int ix = static_cast<int>((i / nyh) % nx);
    const index_t b = i / (static_cast<index_t>(nyh) * nx);
    const double kx = ix <= nx / 2 ? ix : ix - nx;
    const double ky = iy;
    const bool self_conjugate = iy == 0 || (ny % 2 == 0 && iy == ny / 2);
    const double w = self_conjugate ? 1.0 : 2.0;
    const Complex<float> h = hat[i];
    const double e =
        w * (static_cast<double>(h.real()) * h.real() + static_cast<double>(h.imag()) * h.imag());
    const int shell = static_cast<int>(floor(sqrt(kx * kx + ky * ky) + 0.5));
    Kokkos::atomic_add(&energy(b, shell), e);
  }
};

std::vector<double> mean_over_samples(const std::vector<double>& v, int samples, int steps) {
  std::vector<double> m(static_cast<std::size_t>(steps), 0.0);
  for (int b = 0; b < samples; ++b)
    for (int t = 0; t < steps; ++t) m[t] += v[static_cast<std::size_t>(b) * steps + t];
  for (double& x : m) x /= samples;
  return m;
}

}  // namespace

namespace {
// Launches the per-row sums into out (rows, 2) and copies them to host (rows, 2); no allocation.
template <class Exec>
void row_sums_into(const Exec& exec, long long rows, long long n, const float* pred, const float* ref,
                   const View2<double, typename Exec::memory_space>& out,
                   const typename View2<double, typename Exec::memory_space>::HostMirror& host) {
  SURRO_REQUIRE(rows > 0 && n > 0, "metrics: rows = " << rows << ", n = " << n << ": expected both > 0");
  Kokkos::parallel_for("surro::op::metrics::squared_sums",
                       Kokkos::TeamPolicy<Exec>(exec, static_cast<int>(rows), Kokkos::AUTO),
                       RowSquaredSums<Exec>{pred, ref, static_cast<index_t>(n), out});
  Kokkos::deep_copy(exec, host, out);
  exec.fence();
}
}  // namespace

template <class Exec>
void squared_sums(const Exec& exec, long long rows, long long n, const float* pred, const float* ref,
                  std::vector<double>& err2, std::vector<double>& ref2) {
  View2<double, typename Exec::memory_space> out(
      Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, "surro::op::metrics::squared_sums"), rows, 2);
  auto host = Kokkos::create_mirror_view(out);
  row_sums_into(exec, rows, n, pred, ref, out, host);
  err2.resize(static_cast<std::size_t>(rows));
  ref2.resize(static_cast<std::size_t>(rows));
  for (long long r = 0; r < rows; ++r) {
    err2[r] = host(r, 0);
    ref2[r] = host(r, 1);
  }
}

template <class Exec>
StepErrors<Exec>::StepErrors(int batch, long long n)
    : m_batch(batch), m_n(n), m_out("surro::op::metrics::step_errors", batch, 2),
      m_host(Kokkos::create_mirror_view(m_out)) {}

template <class Exec>
void StepErrors<Exec>::add(const Exec& exec, EvalReport& report, int step, const float* pred, const float* ref) {
  SURRO_REQUIRE(step >= 0 && step < report.steps,
                "metrics: step = " << step << ": expected 0 .. " << report.steps - 1);
  SURRO_REQUIRE(report.samples == m_batch && report.frame_size == m_n,
                "metrics: report (" << report.samples << " samples of " << report.frame_size
                                    << ") does not match StepErrors (" << m_batch << " of " << m_n << ")");
  row_sums_into(exec, m_batch, m_n, pred, ref, m_out, m_host);
  for (int b = 0; b < m_batch; ++b) {
    report.err2[static_cast<std::size_t>(b) * report.steps + step] = m_host(b, 0);
    report.ref2[static_cast<std::size_t>(b) * report.steps + step] = m_host(b, 1);
  }
}

EvalReport::EvalReport(int samples_, int steps_, long long frame_size_)
    : samples(samples_), steps(steps_), frame_size(frame_size_) {
  SURRO_REQUIRE(samples > 0 && steps > 0 && frame_size > 0,
                "EvalReport: samples = " << samples << ", steps = " << steps
                                         << ", frame_size = " << frame_size << ": expected all > 0");
  err2.assign(static_cast<std::size_t>(samples) * steps, 0.0);
  ref2 = err2;
}

void EvalReport::finalize() {
  const std::size_t bt = static_cast<std::size_t>(samples) * steps;
  SURRO_REQUIRE(err2.size() == bt && ref2.size() == bt, "EvalReport: err2/ref2 have "
                                                            << err2.size() << "/" << ref2.size()
                                                            << " entries: expected " << bt);
  rel_l2.resize(bt);
  rmse.resize(bt);
  for (std::size_t i = 0; i < bt; ++i) {
    rel_l2[i] = std::sqrt(err2[i]) / std::sqrt(ref2[i]);
    rmse[i] = std::sqrt(err2[i] / static_cast<double>(frame_size));
  }
  rel_l2_step_mean = mean_over_samples(rel_l2, samples, steps);
  const std::vector<double> mse_step = mean_over_samples(err2, samples, steps);
  rmse_step_mean.resize(steps);
  for (int t = 0; t < steps; ++t)
    rmse_step_mean[t] = std::sqrt(mse_step[t] / static_cast<double>(frame_size));
  rel_l2_trajectory.assign(samples, 0.0);
  double e_all = 0.0;
  rel_l2_mean = 0.0;
  for (int b = 0; b < samples; ++b) {
    double e = 0.0, r = 0.0;
    for (int t = 0; t < steps; ++t) {
      e += err2[static_cast<std::size_t>(b) * steps + t];
      r += ref2[static_cast<std::size_t>(b) * steps + t];
    }
    rel_l2_trajectory[b] = std::sqrt(e) / std::sqrt(r);
    rel_l2_mean += rel_l2_trajectory[b] / samples;
    e_all += e;
  }
  rmse_overall = std::sqrt(e_all / (static_cast<double>(bt) * static_cast<double>(frame_size)));
  if (!spectrum_error.empty()) {
    SURRO_REQUIRE(spectrum_error.size() == bt,
                  "EvalReport: spectrum_error has " << spectrum_error.size() << " entries: expected " << bt);
    spectrum_error_step_mean = mean_over_samples(spectrum_error, samples, steps);
    spectrum_error_mean = 0.0;
    for (double v : spectrum_error) spectrum_error_mean += v / static_cast<double>(bt);
  }
}

template <class Exec>
void add_step(const Exec& exec, EvalReport& report, int step, const float* pred, const float* ref) {
  StepErrors<Exec>(report.samples, report.frame_size).add(exec, report, step, pred, ref);
}

template <class Exec>
EvalReport trajectory_errors(const Exec& exec, int samples, int steps, long long n, const float* pred,
                             const float* ref) {
  ScopedRegion region("surro::op::metrics::trajectory_errors");
  EvalReport report(samples, steps, n);
  squared_sums(exec, static_cast<long long>(samples) * steps, n, pred, ref, report.err2, report.ref2);
  report.finalize();
  return report;
}

template <class Exec>
struct SpectrumPlan<Exec>::Impl {
  int batch, nx, ny, shells;
  fft::RealFftPlan<float, Exec> plan;
  View1<Complex<float>, typename Exec::memory_space> hat;  // (B, Nx, Ny/2 + 1)
  View2<double, typename Exec::memory_space> energy;       // (B, K)
  Impl(const Exec& exec, int b, int x, int y)
      : batch(b),
        nx(x),
        ny(y),
        shells(
            static_cast<int>(std::floor(std::sqrt(double(x / 2) * (x / 2) + double(y / 2) * (y / 2)) + 0.5)) +
            1),
        plan(exec, {x, y}, b, fft::Norm::forward, "surro::op::metrics::spectrum"),
        hat(make_scratch<View1<Complex<float>, typename Exec::memory_space>>(
            exec, "surro::op::metrics::spectrum::hat", static_cast<std::size_t>(b) * x * (y / 2 + 1))),
        energy("surro::op::metrics::spectrum::energy", b, shells) {}
};

template <class Exec>
SpectrumPlan<Exec>::SpectrumPlan(const Exec& exec, int batch, int nx, int ny) {
  SURRO_REQUIRE(batch > 0 && nx > 0 && ny > 0,
                "spectrum: batch = " << batch << ", Nx = " << nx << ", Ny = " << ny << ": expected all > 0");
  m_impl = std::make_unique<Impl>(exec, batch, nx, ny);
}
template <class Exec>
SpectrumPlan<Exec>::~SpectrumPlan() = default;
template <class Exec>
SpectrumPlan<Exec>::SpectrumPlan(SpectrumPlan&&) noexcept = default;
template <class Exec>
SpectrumPlan<Exec>& SpectrumPlan<Exec>::operator=(SpectrumPlan&&) noexcept = default;
template <class Exec>
int SpectrumPlan<Exec>::shells() const {
  return m_impl->shells;
}
template <class Exec>
int SpectrumPlan<Exec>::batch() const {
  return m_impl->batch;
}

template <class Exec>
int SpectrumPlan<Exec>::kmax() const {
  return std::min(m_impl->nx, m_impl->ny) / 2;
}

template <class Exec>
std::vector<double> SpectrumPlan<Exec>::compute(const Exec& exec, const float* field) const {
  ScopedRegion region("surro::op::metrics::spectrum");
  Impl& m = *m_impl;
  m.plan.forward_raw(exec, field, m.hat.data());
  Kokkos::deep_copy(exec, m.energy, 0.0);
  const int nyh = m.ny / 2 + 1;
  Kokkos::parallel_for("surro::op::metrics::spectrum::shells",
                       Kokkos::RangePolicy<Exec>(exec, 0, static_cast<index_t>(m.batch) * m.nx * nyh),
                       ShellSum<Exec>{m.hat.data(), m.energy, m.nx, m.ny, nyh});
  auto host = Kokkos::create_mirror_view(m.energy);
  Kokkos::deep_copy(exec, host, m.energy);
  exec.fence();
  return std::vector<double>(host.data(), host.data() + host.span());
}

double spectrum_log_error(const double* e_pred, const double* e_ref, int shells, int kmax) {
  const int last = std::min(kmax, shells - 1);
  SURRO_REQUIRE(last >= 1, "spectrum error: kmax = " << kmax << ", shells = " << shells
                                                     << ": expected at least shell 1");
  double total = 0.0;
  for (int k = 0; k < shells; ++k) total += e_ref[k];
  // Shells whose reference energy is below what float32 fields resolve carry no information:
  // rounding a field of unit size to float adds ~1e-14 of its energy per mode, and dealiased
  // solver data is exactly zero beyond 2/3 of the cutoff. Comparing logs there would measure
  // round-off, so only shells holding at least kResolved of the total count.
  constexpr double kResolved = 1e-10;
  const double resolved = kResolved * (total > 0.0 ? total : 1.0);
  const double floor_e = 1e-30 * (total > 0.0 ? total : 1.0);
  double s = 0.0;
  int counted = 0;
  for (int k = 1; k <= last; ++k) {
    if (e_ref[k] < resolved) continue;
    const double d = std::log10(std::max(e_pred[k], floor_e)) - std::log10(e_ref[k]);
    s += d * d;
    ++counted;
  }
  return counted > 0 ? std::sqrt(s / counted) : 0.0;
}

template <class Exec>
void add_spectrum_step(const Exec& exec, EvalReport& report, const SpectrumPlan<Exec>& plan, int step,
                       const float* pred, const float* ref) {
  SURRO_REQUIRE(step >= 0 && step < report.steps,
                "metrics: step = " << step << ": expected 0 .. " << report.steps - 1);
  SURRO_REQUIRE(plan.batch() == report.samples,
                "metrics: spectrum plan batch = " << plan.batch() << ": expected the report's samples, "
                                                  << report.samples);
  const std::size_t bt = static_cast<std::size_t>(report.samples) * report.steps;
  if (report.spectrum_error.size() != bt) report.spectrum_error.assign(bt, 0.0);
  const std::vector<double> ep = plan.compute(exec, pred), er = plan.compute(exec, ref);
  const int k = plan.shells();
  for (int b = 0; b < report.samples; ++b)
    report.spectrum_error[static_cast<std::size_t>(b) * report.steps + step] =
        spectrum_log_error(ep.data() + static_cast<std::size_t>(b) * k,
                           er.data() + static_cast<std::size_t>(b) * k, k, plan.kmax());
}

void write_report_json(const std::string& path, const EvalReport& r) {
  nlohmann::ordered_json j;
  j["samples"] = r.samples;
  j["steps"] = r.steps;
  j["frame_size"] = r.frame_size;
  j["rel_l2_mean"] = r.rel_l2_mean;
  j["rmse"] = r.rmse_overall;
  if (!r.spectrum_error.empty()) j["spectrum_error_mean"] = r.spectrum_error_mean;
  j["per_step"]["rel_l2"] = r.rel_l2_step_mean;
  j["per_step"]["rmse"] = r.rmse_step_mean;
  if (!r.spectrum_error.empty()) j["per_step"]["spectrum_error"] = r.spectrum_error_step_mean;
  j["per_sample"]["rel_l2_trajectory"] = r.rel_l2_trajectory;
  nlohmann::ordered_json rel = nlohmann::ordered_json::array(), rm = nlohmann::ordered_json::array();
  for (int b = 0; b < r.samples; ++b) {
    const auto first = static_cast<std::ptrdiff_t>(b) * r.steps;
    rel.push_back(std::vector<double>(r.rel_l2.begin() + first, r.rel_l2.begin() + first + r.steps));
    rm.push_back(std::vector<double>(r.rmse.begin() + first, r.rmse.begin() + first + r.steps));
  }
  j["per_sample"]["rel_l2"] = rel;
  j["per_sample"]["rmse"] = rm;
  io::write_text_atomic(path, j.dump(2) + "\n");
}

void write_report_csv(const std::string& path, const EvalReport& r) {
  const bool spec = !r.spectrum_error.empty();
  std::ostringstream csv;
  csv.precision(17);
  csv << "step,rel_l2_mean,rmse" << (spec ? ",spectrum_error_mean" : "") << '\n';
  for (int t = 0; t < r.steps; ++t) {
    csv << t << ',' << r.rel_l2_step_mean[t] << ',' << r.rmse_step_mean[t];
    if (spec) csv << ',' << r.spectrum_error_step_mean[t];
    csv << '\n';
  }
  io::write_text_atomic(path, csv.str());
}

#define SURRO_INSTANTIATE_METRICS(EXEC)                                                                      \
  template void squared_sums<EXEC>(const EXEC&, long long, long long, const float*, const float*,            \
                                   std::vector<double>&, std::vector<double>&);                              \
  template void add_step<EXEC>(const EXEC&, EvalReport&, int, const float*, const float*);                   \
  template class StepErrors<EXEC>;                                                                           \
  template EvalReport trajectory_errors<EXEC>(const EXEC&, int, int, long long, const float*, const float*); \
  template class SpectrumPlan<EXEC>;                                                                         \
  template void add_spectrum_step<EXEC>(const EXEC&, EvalReport&, const SpectrumPlan<EXEC>&, int,            \
                                        const float*, const float*);

SURRO_INSTANTIATE_METRICS(HostExec)
#ifdef KOKKOS_ENABLE_CUDA
SURRO_INSTANTIATE_METRICS(Kokkos::Cuda)
#endif

}  // namespace surro::op
