#include "operators/metrics.hpp"

#include "core/error.hpp"
#include "core/fft.hpp"
#include "core/io.hpp"
#include "core/timer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

namespace surro::op {

namespace {

// One team per (row, field): out(r F + f, 0) = sum over field f of row r of (pred - ref)^2,
// out(r F + f, 1) = sum ref^2, in double. Row r holds the points [offsets(r), offsets(r + 1)) of C
// channels starting at element C offsets(r): (P, C) channel-last or (C, P) channel-first. Element
// j of field f (its C_f components from channel c0) is base + a + (j / C_f) s + j % C_f with
// a = c0, s = C channel-last and a = c0 P, s = C_f channel-first (then the field is contiguous and
// the index is base + c0 P + j).
template <class Exec>
struct FieldSquaredSums {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Mem = typename Exec::memory_space;
  const float* pred;
  const float* ref;
  View1<index_t, Mem> offsets;  // (R + 1)
  View1<int, Mem> first, comp;  // (F)
  int fields, channels;
  bool channel_last;
  View2<double, Mem> out;  // (R F, 2)
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t rf = team.league_rank();
    const index_t r = rf / fields;
    const int f = static_cast<int>(rf % fields);
    const index_t points = offsets(r + 1) - offsets(r);
    const index_t cf = comp(f);
    const index_t a = channel_last ? first(f) : first(f) * points;
    const index_t s = channel_last ? channels : cf;
    const float* p = pred + offsets(r) * channels + a;
    const float* q = ref + offsets(r) * channels + a;
    const index_t n = points * cf;
    double e2 = 0.0, r2 = 0.0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, n),
        [&](const index_t j, double& acc) {
          const index_t i = (j / cf) * s + j % cf;
          const double d = static_cast<double>(p[i]) - static_cast<double>(q[i]);
          acc += d * d;
        },
        e2);
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, n),
        [&](const index_t j, double& acc) {
          const double v = static_cast<double>(q[(j / cf) * s + j % cf]);
          acc += v * v;
        },
        r2);
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      out(rf, 0) = e2;
      out(rf, 1) = r2;
    });
  }
};

// Half spectrum (B, Nx, Ny/2 + 1) -> energy (B, K): shell-summed |f_hat|^2, counting each stored
// coefficient twice when it stands for its conjugate as well (0 < ky < Ny/2). One thread per
// (sample, shell) adds its shell's coefficients in (kx row, ky) order: no atomics, so the sums are
// the same for any thread count. Along a row, shell(ky) = round(|(kx, ky)|) does not decrease with
// ky >= 0, so a shell is one run of a row, found from a lower bound of its start.
template <class Exec>
struct ShellSum {
  const Complex<float>* hat;                          // (B, Nx, Ny/2 + 1)
  View2<double, typename Exec::memory_space> energy;  // (B, K)
  int nx, ny, nyh, shells;
  KOKKOS_INLINE_FUNCTION static int shell_of(double kx, double ky) {
    return static_cast<int>(floor(sqrt(kx * kx + ky * ky) + 0.5));
  }
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const int shell = static_cast<int>(i % shells);
    const index_t b = i / shells;
    double e = 0.0;
    for (int ix = 0; ix < nx; ++ix) {
      const double kx = ix <= nx / 2 ? ix : ix - nx;
      // |(kx, ky)| >= shell - 1/2 on the shell; one below the bound absorbs the rounding of sqrt.
      const double t = (shell - 0.5) * (shell - 0.5) - kx * kx;
      int iy = t > 0.0 ? static_cast<int>(floor(sqrt(t))) - 1 : 0;
      if (iy < 0) iy = 0;
      for (; iy < nyh; ++iy) {
        const int k = shell_of(kx, iy);
        if (k > shell) break;
        if (k < shell) continue;
        const bool self_conjugate = iy == 0 || (ny % 2 == 0 && iy == ny / 2);
        const Complex<float> h = hat[(b * nx + ix) * nyh + iy];
        e += (self_conjugate ? 1.0 : 2.0) *
             (static_cast<double>(h.real()) * h.real() + static_cast<double>(h.imag()) * h.imag());
      }
    }
    energy(b, shell) = e;
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

namespace impl::metrics {

// The layout's first channels and components (F) on Exec.
template <class Exec>
void layout_views(const FieldLayout& layout, View1<int, typename Exec::memory_space>& first,
                  View1<int, typename Exec::memory_space>& comp) {
  const int nf = layout.fields();
  first = View1<int, typename Exec::memory_space>("surro::op::metrics::first_channel", nf);
  comp = View1<int, typename Exec::memory_space>("surro::op::metrics::components", nf);
  auto hf = Kokkos::create_mirror_view(first);
  auto hc = Kokkos::create_mirror_view(comp);
  for (int f = 0; f < nf; ++f) {
    hf(f) = layout.first_channel(f);
    hc(f) = layout.components[f];
  }
  Kokkos::deep_copy(first, hf);
  Kokkos::deep_copy(comp, hc);
}

// Launches the (row, field) sums of `rows` rows into out (rows F, 2); no copy, no wait.
template <class Exec>
void field_sums_launch(const Exec& exec, int rows, const FieldLayout& layout,
                       const View1<index_t, typename Exec::memory_space>& offsets,
                       const View1<int, typename Exec::memory_space>& first,
                       const View1<int, typename Exec::memory_space>& comp, const float* pred,
                       const float* ref, const View2<double, typename Exec::memory_space>& out) {
  SURRO_REQUIRE(rows > 0, "metrics: rows = " << rows << ": expected > 0");
  const int nf = layout.fields();
  Kokkos::parallel_for("surro::op::metrics::squared_sums",
                       Kokkos::TeamPolicy<Exec>(exec, rows * nf, Kokkos::AUTO),
                       FieldSquaredSums<Exec>{pred, ref, offsets, first, comp, nf, layout.channels(),
                                              layout.channel_last, out});
}

// The same, then copied to host; no allocation.
template <class Exec>
void field_sums_into(const Exec& exec, int rows, const FieldLayout& layout,
                     const View1<index_t, typename Exec::memory_space>& offsets,
                     const View1<int, typename Exec::memory_space>& first,
                     const View1<int, typename Exec::memory_space>& comp, const float* pred, const float* ref,
                     const View2<double, typename Exec::memory_space>& out,
                     const typename View2<double, typename Exec::memory_space>::HostMirror& host) {
  field_sums_launch(exec, rows, layout, offsets, first, comp, pred, ref, out);
  Kokkos::deep_copy(exec, host, out);
  exec.fence();
}

// One field of one component: rows of n elements read as n points.
inline FieldLayout single_field() {
  FieldLayout l;
  l.names = {""};
  l.components = {1};
  return l;
}

}  // namespace impl::metrics

void FieldLayout::validate(const std::string& where) const {
  SURRO_REQUIRE(!names.empty() && names.size() == components.size(),
                where << ": field layout with " << names.size() << " names and " << components.size()
                      << " component counts: expected as many, at least one");
  for (std::size_t f = 0; f < components.size(); ++f)
    SURRO_REQUIRE(components[f] >= 1,
                  where << ": field " << names[f] << ": components = " << components[f] << ": expected >= 1");
}

int FieldLayout::channels() const {
  int c = 0;
  for (int k : components) c += k;
  return c;
}

int FieldLayout::first_channel(int field) const {
  int c = 0;
  for (int f = 0; f < field; ++f) c += components[f];
  return c;
}

template <class Exec>
void squared_sums(const Exec& exec, long long rows, long long n, const float* pred, const float* ref,
                  std::vector<double>& err2, std::vector<double>& ref2) {
  using Mem = typename Exec::memory_space;
  SURRO_REQUIRE(rows > 0 && n > 0, "metrics: rows = " << rows << ", n = " << n << ": expected both > 0");
  const FieldLayout layout = impl::metrics::single_field();
  View1<int, Mem> first, comp;
  impl::metrics::layout_views<Exec>(layout, first, comp);
  View1<index_t, Mem> offsets(
      Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, "surro::op::metrics::offsets"), rows + 1);
  Kokkos::parallel_for(
      "surro::op::metrics::offsets", Kokkos::RangePolicy<Exec>(exec, 0, rows + 1),
      KOKKOS_LAMBDA(const index_t r) { offsets(r) = r * n; });
  View2<double, Mem> out(
      Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, "surro::op::metrics::squared_sums"), rows, 2);
  auto host = Kokkos::create_mirror_view(out);
  impl::metrics::field_sums_into(exec, static_cast<int>(rows), layout, offsets, first, comp, pred, ref, out,
                                 host);
  err2.resize(static_cast<std::size_t>(rows));
  ref2.resize(static_cast<std::size_t>(rows));
  for (long long r = 0; r < rows; ++r) {
    err2[r] = host(r, 0);
    ref2[r] = host(r, 1);
  }
}

template <class Exec>
StepErrors<Exec>::StepErrors(int batch, long long n)
    : m_layout(impl::metrics::single_field()), m_batch(batch), m_n(n) {
  SURRO_REQUIRE(batch > 0 && n > 0,
                "metrics: StepErrors batch = " << batch << ", n = " << n << ": expected both > 0");
  impl::metrics::layout_views<Exec>(m_layout, m_first, m_comp);
  m_offsets = View1<index_t, Mem>("surro::op::metrics::step_offsets", batch + 1);
  m_offsets_host = Kokkos::create_mirror_view(m_offsets);
  for (int b = 0; b <= batch; ++b) m_offsets_host(b) = b * n;
  Kokkos::deep_copy(m_offsets, m_offsets_host);
  m_out = View2<double, Mem>("surro::op::metrics::step_errors", batch, 2);
  m_host = Kokkos::create_mirror_view(m_out);
}

template <class Exec>
StepErrors<Exec>::StepErrors(const FieldLayout& layout, int max_batch)
    : m_layout(layout), m_batch(max_batch), m_n(0) {
  layout.validate("metrics: StepErrors");
  SURRO_REQUIRE(max_batch > 0, "metrics: StepErrors max_batch = " << max_batch << ": expected > 0");
  impl::metrics::layout_views<Exec>(m_layout, m_first, m_comp);
  m_offsets = View1<index_t, Mem>("surro::op::metrics::step_offsets", max_batch + 1);
  m_offsets_host = Kokkos::create_mirror_view(m_offsets);
  m_out = View2<double, Mem>("surro::op::metrics::step_errors", std::size_t(max_batch) * layout.fields(), 2);
  m_host = Kokkos::create_mirror_view(m_out);
}

template <class Exec>
void StepErrors<Exec>::launch(const Exec& exec, int rows, const float* pred, const float* ref) {
  impl::metrics::field_sums_into(exec, rows, m_layout, m_offsets, m_first, m_comp, pred, ref, m_out, m_host);
}

namespace {
// Stores the host sums of `rows` samples from `first` at `step`: totals are the fixed-order sums
// over fields; per-field sums where the report keeps them.
template <class Host>
void store_sums(EvalReport& report, int step, int first, int rows, int fields, const Host& host) {
  const bool per_field = report.layout.fields() > 0;
  for (int b = 0; b < rows; ++b) {
    const std::size_t bt = static_cast<std::size_t>(first + b) * report.steps + step;
    double e = 0.0, r = 0.0;
    for (int f = 0; f < fields; ++f) {
      e += host(b * fields + f, 0);
      r += host(b * fields + f, 1);
      if (per_field) {
        report.field_err2[bt * fields + f] = host(b * fields + f, 0);
        report.field_ref2[bt * fields + f] = host(b * fields + f, 1);
      }
    }
    report.err2[bt] = e;
    report.ref2[bt] = r;
  }
}
}  // namespace

template <class Exec>
void StepErrors<Exec>::add(const Exec& exec, EvalReport& report, int step, const float* pred,
                           const float* ref) {
  check_grid_report(report, step);
  launch(exec, m_batch, pred, ref);
  store_sums(report, step, 0, m_batch, 1, m_host);
}

template <class Exec>
void StepErrors<Exec>::check_grid_report(const EvalReport& report, int step) const {
  SURRO_REQUIRE(m_n > 0, "metrics: StepErrors built with a field layout: expected add() with offsets");
  SURRO_REQUIRE(step >= 0 && step < report.steps,
                "metrics: step = " << step << ": expected 0 .. " << report.steps - 1);
  SURRO_REQUIRE(report.samples == m_batch && report.frame_size == m_n && report.points.empty() &&
                    report.layout.fields() == 0,
                "metrics: report (" << report.samples << " samples of " << report.frame_size
                                    << ") does not match StepErrors (" << m_batch << " of " << m_n
                                    << ", no field layout)");
}

template <class Exec>
void StepErrors<Exec>::launch(const Exec& exec, const float* pred, const float* ref, double* sums) {
  SURRO_REQUIRE(m_n > 0, "metrics: StepErrors built with a field layout: expected add() with offsets");
  impl::metrics::field_sums_launch(exec, m_batch, m_layout, m_offsets, m_first, m_comp, pred, ref,
                                   View2<double, Mem>(sums, m_batch, 2));
}

template <class Exec>
void StepErrors<Exec>::store(EvalReport& report, int step, const double* sums) const {
  check_grid_report(report, step);
  store_sums(report, step, 0, m_batch, 1,
             Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                 sums, m_batch, 2));
}

template <class Exec>
void StepErrors<Exec>::add(const Exec& exec, EvalReport& report, int step, int first,
                           const std::vector<long long>& offsets, const float* pred, const float* ref) {
  const int rows = static_cast<int>(offsets.size()) - 1;
  SURRO_REQUIRE(step >= 0 && step < report.steps,
                "metrics: step = " << step << ": expected 0 .. " << report.steps - 1);
  SURRO_REQUIRE(rows >= 1 && rows <= m_batch && offsets[0] == 0, "metrics: StepErrors offsets: expected 2 .. "
                                                                     << m_batch + 1 << " entries from 0, got "
                                                                     << offsets.size());
  SURRO_REQUIRE(first >= 0 && first + rows <= report.samples,
                "metrics: samples " << first << " .. " << first + rows - 1 << ": expected within 0 .. "
                                    << report.samples - 1);
  SURRO_REQUIRE(report.layout.fields() == 0 || report.layout == m_layout,
                "metrics: the report's field layout differs from StepErrors'");
  const long long channels = m_layout.channels();
  for (int b = 0; b < rows; ++b) {
    const long long p = offsets[b + 1] - offsets[b];
    SURRO_REQUIRE(p > 0 && p * channels == report.sample_size(first + b),
                  "metrics: sample " << first + b << ": " << p << " points of " << channels
                                     << " channels: expected " << report.sample_size(first + b)
                                     << " elements per frame");
  }
  for (int b = 0; b <= rows; ++b) m_offsets_host(b) = offsets[b];
  Kokkos::deep_copy(exec, m_offsets, m_offsets_host);
  launch(exec, rows, pred, ref);
  store_sums(report, step, first, rows, m_layout.fields(), m_host);
}

EvalReport::EvalReport(int samples_, int steps_, long long frame_size_)
    : samples(samples_), steps(steps_), frame_size(frame_size_) {
  SURRO_REQUIRE(samples > 0 && steps > 0 && frame_size > 0,
                "EvalReport: samples = " << samples << ", steps = " << steps
                                         << ", frame_size = " << frame_size << ": expected all > 0");
  err2.assign(static_cast<std::size_t>(samples) * steps, 0.0);
  ref2 = err2;
}

EvalReport::EvalReport(int steps_, std::vector<long long> points_, FieldLayout layout_,
                       std::vector<int> horizons_)
    : samples(static_cast<int>(points_.size())),
      steps(steps_),
      layout(std::move(layout_)),
      points(std::move(points_)) {
  layout.validate("EvalReport");
  SURRO_REQUIRE(samples > 0 && steps > 0,
                "EvalReport: samples = " << samples << ", steps = " << steps << ": expected both > 0");
  for (int b = 0; b < samples; ++b)
    SURRO_REQUIRE(points[b] > 0,
                  "EvalReport: sample " << b << ": points = " << points[b] << ": expected > 0");
  const long long c = layout.channels();
  frame_size = points[0] * c;
  for (long long p : points)
    if (p * c != frame_size) frame_size = 0;
  for (int h : horizons_)
    if (h >= 1 && h <= steps) horizons.push_back(h);
  err2.assign(static_cast<std::size_t>(samples) * steps, 0.0);
  ref2 = err2;
  field_err2.assign(err2.size() * layout.fields(), 0.0);
  field_ref2 = field_err2;
}

long long EvalReport::sample_size(int b) const {
  if (points.empty()) return frame_size;
  return points[b] * (layout.fields() > 0 ? layout.channels() : 1);
}

namespace {

// sqrt(mean over samples of (1/h) sum_{t < h} e(b, t) / n(b)) for each h: e (B, T) sums of squares.
std::vector<double> horizon_rmse_of(const std::vector<double>& e, int samples, int steps,
                                    const std::vector<double>& n, const std::vector<int>& horizons) {
  std::vector<double> out;
  for (int h : horizons) {
    double m = 0.0;
    for (int b = 0; b < samples; ++b) {
      double s = 0.0;
      for (int t = 0; t < h; ++t) s += e[static_cast<std::size_t>(b) * steps + t];
      m += s / (h * n[b]);
    }
    out.push_back(std::sqrt(m / samples));
  }
  return out;
}

// Per-sample MSE per step: sqrt(mean_b e(b, t) / n(b)) for each t.
std::vector<double> step_rmse_of(const std::vector<double>& e, int samples, int steps,
                                 const std::vector<double>& n) {
  std::vector<double> out(static_cast<std::size_t>(steps), 0.0);
  for (int b = 0; b < samples; ++b)
    for (int t = 0; t < steps; ++t) out[t] += e[static_cast<std::size_t>(b) * steps + t] / n[b];
  for (double& v : out) v = std::sqrt(v / samples);
  return out;
}

// The horizon and per-field derived fields of the variable-size form.
void finalize_fields(EvalReport& r) {
  const int nb = r.samples, nt = r.steps, nf = r.layout.fields();
  std::vector<double> n(nb);
  for (int b = 0; b < nb; ++b) n[b] = static_cast<double>(r.sample_size(b));
  r.horizon_rmse = horizon_rmse_of(r.err2, nb, nt, n, r.horizons);
  r.rmse_one_step = horizon_rmse_of(r.err2, nb, nt, n, {1})[0];
  r.rmse_all_rollout = horizon_rmse_of(r.err2, nb, nt, n, {nt})[0];
  if (nf == 0) return;
  const std::size_t bt = static_cast<std::size_t>(nb) * nt;
  SURRO_REQUIRE(r.field_err2.size() == bt * nf && r.field_ref2.size() == bt * nf,
                "EvalReport: field_err2/ref2 have " << r.field_err2.size() << "/" << r.field_ref2.size()
                                                    << " entries: expected " << bt * nf);
  r.field_rmse.assign(bt * nf, 0.0);
  r.field_rmse_step_mean.clear();
  r.field_horizon_rmse.clear();
  r.field_rmse_all_rollout.clear();
  r.field_rel_l2_trajectory.assign(static_cast<std::size_t>(nb) * nf, 0.0);
  r.field_rel_l2_mean.assign(nf, 0.0);
  const long long c = r.layout.channels();
  for (int f = 0; f < nf; ++f) {
    std::vector<double> e(bt), nfb(nb);  // (B, T) this field's sums; (B) its elements per frame
    for (int b = 0; b < nb; ++b) nfb[b] = static_cast<double>(r.sample_size(b) / c * r.layout.components[f]);
    for (int b = 0; b < nb; ++b) {
      double te = 0.0, tr = 0.0;
      for (int t = 0; t < nt; ++t) {
        const std::size_t i = static_cast<std::size_t>(b) * nt + t;
        e[i] = r.field_err2[i * nf + f];
        r.field_rmse[i * nf + f] = std::sqrt(e[i] / nfb[b]);
        te += e[i];
        tr += r.field_ref2[i * nf + f];
      }
      r.field_rel_l2_trajectory[static_cast<std::size_t>(b) * nf + f] = std::sqrt(te) / std::sqrt(tr);
      r.field_rel_l2_mean[f] += std::sqrt(te) / std::sqrt(tr) / nb;
    }
    const std::vector<double> st = step_rmse_of(e, nb, nt, nfb);
    r.field_rmse_step_mean.insert(r.field_rmse_step_mean.end(), st.begin(), st.end());
    const std::vector<double> hz = horizon_rmse_of(e, nb, nt, nfb, r.horizons);
    r.field_horizon_rmse.insert(r.field_horizon_rmse.end(), hz.begin(), hz.end());
    r.field_rmse_all_rollout.push_back(horizon_rmse_of(e, nb, nt, nfb, {nt})[0]);
  }
}

}  // namespace

void EvalReport::finalize() {
  const std::size_t bt = static_cast<std::size_t>(samples) * steps;
  SURRO_REQUIRE(err2.size() == bt && ref2.size() == bt, "EvalReport: err2/ref2 have "
                                                            << err2.size() << "/" << ref2.size()
                                                            << " entries: expected " << bt);
  const bool variable = !points.empty() || layout.fields() > 0 || !horizons.empty();
  rel_l2.resize(bt);
  rmse.resize(bt);
  std::vector<double> n(static_cast<std::size_t>(samples));
  double elements = 0.0;  // sum_b n_b
  for (int b = 0; b < samples; ++b) {
    n[b] = static_cast<double>(sample_size(b));
    elements += n[b];
  }
  for (std::size_t i = 0; i < bt; ++i) {
    rel_l2[i] = std::sqrt(err2[i]) / std::sqrt(ref2[i]);
    rmse[i] = std::sqrt(err2[i] / n[i / steps]);
  }
  rel_l2_step_mean = mean_over_samples(rel_l2, samples, steps);
  if (points.empty()) {  // equal sizes: the mean of the sums over frame_size
    const std::vector<double> mse_step = mean_over_samples(err2, samples, steps);
    rmse_step_mean.resize(steps);
    for (int t = 0; t < steps; ++t)
      rmse_step_mean[t] = std::sqrt(mse_step[t] / static_cast<double>(frame_size));
  } else {
    rmse_step_mean = step_rmse_of(err2, samples, steps, n);
  }
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
  rmse_overall = std::sqrt(e_all / (static_cast<double>(steps) * elements));
  if (!spectrum_error.empty()) {
    SURRO_REQUIRE(spectrum_error.size() == bt,
                  "EvalReport: spectrum_error has " << spectrum_error.size() << " entries: expected " << bt);
    spectrum_error_step_mean = mean_over_samples(spectrum_error, samples, steps);
    spectrum_error_mean = 0.0;
    for (double v : spectrum_error) spectrum_error_mean += v / static_cast<double>(bt);
  }
  if (variable) finalize_fields(*this);
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
EvalReport trajectory_errors(const Exec& exec, int steps, const std::vector<long long>& points,
                             const FieldLayout& layout, const float* pred, const float* ref,
                             std::vector<int> horizons) {
  using Mem = typename Exec::memory_space;
  ScopedRegion region("surro::op::metrics::trajectory_errors");
  EvalReport report(steps, points, layout, std::move(horizons));
  // Rows are the (b, t) frames: sample b's frame t starts at point sum_{b' < b} T P_b' + t P_b.
  const int rows = report.samples * steps;
  View1<index_t, Mem> offsets("surro::op::metrics::offsets", rows + 1);
  auto host_offsets = Kokkos::create_mirror_view(offsets);
  index_t o = 0;
  for (int b = 0; b < report.samples; ++b)
    for (int t = 0; t < steps; ++t) {
      host_offsets(b * steps + t) = o;
      o += points[b];
    }
  host_offsets(rows) = o;
  Kokkos::deep_copy(offsets, host_offsets);
  View1<int, Mem> first, comp;
  impl::metrics::layout_views<Exec>(layout, first, comp);
  View2<double, Mem> out("surro::op::metrics::squared_sums", std::size_t(rows) * layout.fields(), 2);
  auto host = Kokkos::create_mirror_view(out);
  impl::metrics::field_sums_into(exec, rows, layout, offsets, first, comp, pred, ref, out, host);
  // Row b T + t is (sample b, step t): store as `rows` samples of one step each.
  const int nf = layout.fields();
  for (int row = 0; row < rows; ++row) {
    double e = 0.0, r = 0.0;
    for (int f = 0; f < nf; ++f) {
      e += host(row * nf + f, 0);
      r += host(row * nf + f, 1);
      report.field_err2[std::size_t(row) * nf + f] = host(row * nf + f, 0);
      report.field_ref2[std::size_t(row) * nf + f] = host(row * nf + f, 1);
    }
    report.err2[row] = e;
    report.ref2[row] = r;
  }
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
void SpectrumPlan<Exec>::compute_into(const Exec& exec, const float* field, double* energy) const {
  ScopedRegion region("surro::op::metrics::spectrum");
  Impl& m = *m_impl;
  m.plan.forward_raw(exec, field, m.hat.data());
  const int nyh = m.ny / 2 + 1;
  Kokkos::parallel_for(
      "surro::op::metrics::spectrum::shells",
      Kokkos::RangePolicy<Exec>(exec, 0, static_cast<index_t>(m.batch) * m.shells),
      ShellSum<Exec>{m.hat.data(), View2<double, typename Exec::memory_space>(energy, m.batch, m.shells),
                     m.nx, m.ny, nyh, m.shells});
}

template <class Exec>
std::vector<double> SpectrumPlan<Exec>::compute(const Exec& exec, const float* field) const {
  Impl& m = *m_impl;
  compute_into(exec, field, m.energy.data());
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
  add_spectrum_step(report, step, plan.compute(exec, pred), plan.compute(exec, ref), plan.shells(),
                    plan.kmax());
}

void add_spectrum_step(EvalReport& report, int step, const std::vector<double>& ep,
                       const std::vector<double>& er, int k, int kmax) {
  SURRO_REQUIRE(step >= 0 && step < report.steps,
                "metrics: step = " << step << ": expected 0 .. " << report.steps - 1);
  const std::size_t bk = static_cast<std::size_t>(report.samples) * static_cast<std::size_t>(k);
  SURRO_REQUIRE(ep.size() == bk && er.size() == bk, "metrics: spectra of "
                                                        << ep.size() << " and " << er.size()
                                                        << " values: expected samples x shells = " << bk);
  const std::size_t bt = static_cast<std::size_t>(report.samples) * report.steps;
  if (report.spectrum_error.size() != bt) report.spectrum_error.assign(bt, 0.0);
  for (int b = 0; b < report.samples; ++b)
    report.spectrum_error[static_cast<std::size_t>(b) * report.steps + step] = spectrum_log_error(
        ep.data() + static_cast<std::size_t>(b) * k, er.data() + static_cast<std::size_t>(b) * k, k, kmax);
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
  if (!r.reference_change_rms.empty()) j["per_step"]["reference_change_rms"] = r.reference_change_rms;
  j["per_sample"]["rel_l2_trajectory"] = r.rel_l2_trajectory;
  nlohmann::ordered_json rel = nlohmann::ordered_json::array(), rm = nlohmann::ordered_json::array();
  for (int b = 0; b < r.samples; ++b) {
    const auto first = static_cast<std::ptrdiff_t>(b) * r.steps;
    rel.push_back(std::vector<double>(r.rel_l2.begin() + first, r.rel_l2.begin() + first + r.steps));
    rm.push_back(std::vector<double>(r.rmse.begin() + first, r.rmse.begin() + first + r.steps));
  }
  j["per_sample"]["rel_l2"] = rel;
  j["per_sample"]["rmse"] = rm;
  if (!r.points.empty() || r.layout.fields() > 0 || !r.horizons.empty()) {
    if (!r.points.empty() && r.frame_size == 0) j["points"] = r.points;
    j["rmse_one_step"] = r.rmse_one_step;
    j["rmse_all_rollout"] = r.rmse_all_rollout;
    j["horizons"]["steps"] = r.horizons;
    j["horizons"]["rmse"] = r.horizon_rmse;
    const std::size_t nh = r.horizons.size(), nt = static_cast<std::size_t>(r.steps);
    for (int f = 0; f < r.layout.fields(); ++f) {
      nlohmann::ordered_json& o = j["fields"][r.layout.names[f]];
      o["components"] = r.layout.components[f];
      o["rmse_all_rollout"] = r.field_rmse_all_rollout[f];
      o["rel_l2_mean"] = r.field_rel_l2_mean[f];
      o["horizon_rmse"] = std::vector<double>(r.field_horizon_rmse.begin() + f * nh,
                                              r.field_horizon_rmse.begin() + (f + 1) * nh);
      o["per_step_rmse"] = std::vector<double>(r.field_rmse_step_mean.begin() + f * nt,
                                               r.field_rmse_step_mean.begin() + (f + 1) * nt);
    }
  }
  io::write_text_atomic(path, j.dump(2) + "\n");
}

void write_report_csv(const std::string& path, const EvalReport& r) {
  const bool spec = !r.spectrum_error.empty();
  std::ostringstream csv;
  csv.precision(17);
  const int nf = static_cast<int>(r.field_rmse_step_mean.size()) / std::max(1, r.steps);
  csv << "step,rel_l2_mean,rmse";
  for (int f = 0; f < nf; ++f) csv << ",rmse_" << r.layout.names[f];
  csv << (spec ? ",spectrum_error_mean" : "") << '\n';
  for (int t = 0; t < r.steps; ++t) {  // steps numbered 1..N (the printed table, VTK files): the
                                       // k-th predicted frame after the input window is step k
    csv << t + 1 << ',' << r.rel_l2_step_mean[t] << ',' << r.rmse_step_mean[t];
    for (int f = 0; f < nf; ++f) csv << ',' << r.field_rmse_step_mean[std::size_t(f) * r.steps + t];
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
  template EvalReport trajectory_errors<EXEC>(const EXEC&, int, const std::vector<long long>&,               \
                                              const FieldLayout&, const float*, const float*,                \
                                              std::vector<int>);                                             \
  template class SpectrumPlan<EXEC>;                                                                         \
  template void add_spectrum_step<EXEC>(const EXEC&, EvalReport&, const SpectrumPlan<EXEC>&, int,            \
                                        const float*, const float*);

SURRO_INSTANTIATE_METRICS(HostExec)
#ifdef KOKKOS_ENABLE_CUDA
SURRO_INSTANTIATE_METRICS(Kokkos::Cuda)
#endif

}  // namespace surro::op
