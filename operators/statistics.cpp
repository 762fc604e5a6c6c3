#include "operators/statistics.hpp"

#include "core/error.hpp"
#include "core/io.hpp"
#include "core/timer.hpp"
#include "operators/metrics.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

namespace surro::op {

namespace stats_impl {

// One team per (moment, slot): the team sums the moment over the K * N / N_a points of that
// (axis, index) slice. A point p of the grid splits as p = (outer * N_a + i) * inner_n + inner.
template <class Exec>
struct SliceSums {
  using Team = typename Kokkos::TeamPolicy<Exec>::member_type;
  View2<double, typename Exec::memory_space> sums;  // (moments, slots)
  const float* x;                                   // (K, C, N)
  int batch, channels, axes;
  index_t points;
  int extent[3], start[3];  // per axis: N_a and its first slot
  index_t inner_n[3];       // per axis: product of the extents after it

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const int slots = static_cast<int>(sums.extent(1));
    const int m = team.league_rank() / slots, slot = team.league_rank() % slots;
    int a = 0;
    while (a + 1 < axes && slot >= start[a + 1]) ++a;
    const index_t i = slot - start[a], n_a = extent[a], inner = inner_n[a];
    const index_t per_sample = points / n_a;
    // Moment m: field c's value (m < C), its square (m < 2C), or the product of pair m - 2C.
    int c = m, d = -1;
    if (m >= channels && m < 2 * channels) {
      c = m - channels;
      d = c;
    } else if (m >= 2 * channels) {
      int k = m - 2 * channels;
      c = 0;
      while (k >= channels - 1 - c) {
        k -= channels - 1 - c;
        ++c;
      }
      d = c + 1 + k;
    }
    double total = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, index_t(batch) * per_sample),
        [&](const index_t e, double& acc) {
          const index_t b = e / per_sample, r = e % per_sample;
          const index_t p = ((r / inner) * n_a + i) * inner + r % inner;
          const float* sample = x + index_t(b) * channels * points;
          const double u = sample[index_t(c) * points + p];
          acc += d < 0 ? u : u * double(sample[index_t(d) * points + p]);
        },
        total);
    Kokkos::single(Kokkos::PerTeam(team), [&]() { sums(m, slot) += total; });
  }
};

// One team per (axis, wavenumber) slot: the team sums |f_hat(k)|^2 over every (sample, field,
// line along the axis), each thread transforming whole lines directly.
template <class Exec>
struct AxisSpectra {
  using Team = typename Kokkos::TeamPolicy<Exec>::member_type;
  View1<double, typename Exec::memory_space> spec;     // (spec_slots)
  View2<double, typename Exec::memory_space> twiddle;  // (2, sum_a N_a), see ProfileStats
  const float* x;                                      // (K, C, N)
  int batch, channels, axes;
  index_t points;
  int extent[3], start[3], twiddle_start[3];
  index_t inner_n[3];

  KOKKOS_INLINE_FUNCTION void operator()(const Team& team) const {
    const int slot = team.league_rank();
    int a = 0;
    while (a + 1 < axes && slot >= start[a + 1]) ++a;
    const int k = slot - start[a], n_a = extent[a];
    const index_t inner = inner_n[a], lines = points / n_a;
    const double w = (k == 0 || 2 * k == n_a) ? 1.0 : 2.0;
    const int t0 = twiddle_start[a];
    double total = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, index_t(batch) * channels * lines),
        [&](const index_t e, double& acc) {
          const index_t bc = e / lines, line = e % lines;
          const float* f = x + bc * points + (line / inner) * n_a * inner + line % inner;
          // e^{-2 pi i k j / N_a} from the table at (k j) mod N_a: two trigonometric calls per point
          // took about 30% of a CPU rollout.
          double re = 0, im = 0;
          for (int j = 0, m = 0; j < n_a; ++j) {
            const double v = f[index_t(j) * inner];
            re += v * twiddle(0, t0 + m);
            im -= v * twiddle(1, t0 + m);
            m += k;
            if (m >= n_a) m -= n_a;
          }
          acc += w * (re * re + im * im) / (double(n_a) * n_a);
        },
        total);
    Kokkos::single(Kokkos::PerTeam(team), [&]() { spec(slot) += total; });
  }
};

}  // namespace stats_impl

template <class Exec>
ProfileStats<Exec>::ProfileStats(int batch, int channels, std::vector<int> grid)
    : m_batch(batch), m_channels(channels), m_grid(std::move(grid)) {
  SURRO_REQUIRE(batch > 0 && channels > 0,
                "statistics: batch " << batch << ", channels " << channels << ": expected positive");
  SURRO_REQUIRE(!m_grid.empty() && m_grid.size() <= 3,
                "statistics: grid of " << m_grid.size() << " axes: expected 1 to 3");
  m_moments = 2 * channels + channels * (channels - 1) / 2;
  for (int e : m_grid) m_slots += e;
  m_sums = View2<double, typename Exec::memory_space>("surro::statistics::sums", m_moments, m_slots);
  for (int e : m_grid) m_spec_slots += e / 2 + 1;
  m_spec = View1<double, typename Exec::memory_space>("surro::statistics::spectra", m_spec_slots);
  m_twiddle = View2<double, typename Exec::memory_space>("surro::statistics::twiddle", 2, m_slots);
  auto t = Kokkos::create_mirror_view(m_twiddle);
  for (int a = 0, s = 0; a < static_cast<int>(m_grid.size()); s += m_grid[a], ++a)
    for (int m = 0; m < m_grid[a]; ++m) {
      const double phase = 2.0 * 3.14159265358979323846 * m / m_grid[a];
      t(0, s + m) = std::cos(phase);
      t(1, s + m) = std::sin(phase);
    }
  Kokkos::deep_copy(m_twiddle, t);
}

template <class Exec>
void ProfileStats<Exec>::add(const Exec& exec, const float* frames) {
  ScopedRegion region("surro::statistics::add");
  stats_impl::SliceSums<Exec> f;
  f.sums = m_sums;
  f.x = frames;
  f.batch = m_batch;
  f.channels = m_channels;
  f.axes = static_cast<int>(m_grid.size());
  f.points = 1;
  for (int e : m_grid) f.points *= e;
  for (int a = 0, s = 0; a < f.axes; ++a) {
    f.extent[a] = m_grid[a];
    f.start[a] = s;
    s += m_grid[a];
    f.inner_n[a] = 1;
    for (int b = a + 1; b < f.axes; ++b) f.inner_n[a] *= m_grid[b];
  }
  Kokkos::parallel_for("surro::statistics::slice_sums",
                       Kokkos::TeamPolicy<Exec>(exec, m_moments * m_slots, Kokkos::AUTO), f);
  stats_impl::AxisSpectra<Exec> g;
  g.spec = m_spec;
  g.twiddle = m_twiddle;
  g.x = frames;
  g.batch = m_batch;
  g.channels = m_channels;
  g.axes = f.axes;
  g.points = f.points;
  for (int a = 0, s = 0; a < f.axes; ++a) {
    g.extent[a] = m_grid[a];
    g.start[a] = s;
    g.twiddle_start[a] = f.start[a];  // the profile slots: the extents of the earlier axes
    s += m_grid[a] / 2 + 1;
    g.inner_n[a] = f.inner_n[a];
  }
  Kokkos::parallel_for("surro::statistics::axis_spectra",
                       Kokkos::TeamPolicy<Exec>(exec, m_spec_slots, Kokkos::AUTO), g);
  ++m_steps;
}

template <class Exec>
AxisProfiles ProfileStats<Exec>::profiles(const Exec& exec) const {
  auto h = Kokkos::create_mirror_view(m_sums);
  Kokkos::deep_copy(exec, h, m_sums);
  exec.fence();
  auto hs = Kokkos::create_mirror_view(m_spec);
  Kokkos::deep_copy(exec, hs, m_spec);
  exec.fence();
  AxisProfiles p;
  p.channels = m_channels;
  p.grid = m_grid;
  p.steps = m_steps;
  long long points = 1;
  for (int e : m_grid) points *= e;
  const int C = m_channels, pairs = C * (C - 1) / 2;
  for (std::size_t a = 0, start = 0; a < m_grid.size(); start += m_grid[a], ++a) {
    const int n = m_grid[a];
    const double count = double(m_steps) * m_batch * (points / n);
    std::vector<std::vector<double>> mean(C, std::vector<double>(n)), rms = mean,
                                                                      cross(pairs, std::vector<double>(n));
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < C; ++c) {
        mean[c][i] = h(c, start + i) / count;
        rms[c][i] = std::sqrt(std::max(0.0, h(C + c, start + i) / count - mean[c][i] * mean[c][i]));
      }
      for (int c = 0, k = 0; c < C; ++c)
        for (int d = c + 1; d < C; ++d, ++k)
          cross[k][i] = h(2 * C + k, start + i) / count - mean[c][i] * mean[d][i];
    }
    // Spectrum slots of this axis start after those of the earlier axes.
    std::size_t spec_start = 0;
    for (std::size_t b = 0; b < a; ++b) spec_start += m_grid[b] / 2 + 1;
    std::vector<double> spec(n / 2 + 1);
    const double lines = double(m_steps) * m_batch * (points / n);
    for (int k = 0; k <= n / 2; ++k) spec[k] = hs(spec_start + k) / lines;
    p.spectrum.push_back(std::move(spec));
    p.mean.push_back(std::move(mean));
    p.rms.push_back(std::move(rms));
    p.cross.push_back(std::move(cross));
  }
  return p;
}

void write_profiles(const std::string& csv_path, const std::string& json_path,
                    const std::vector<std::string>& fields, const AxisProfiles& pred,
                    const AxisProfiles& ref) {
  SURRO_REQUIRE(pred.grid == ref.grid && pred.channels == ref.channels &&
                    static_cast<int>(fields.size()) == pred.channels,
                "statistics: prediction and reference profiles differ in shape, or "
                    << fields.size() << " field names for " << pred.channels << " fields");
  std::vector<std::string> pair_names;
  for (std::size_t c = 0; c < fields.size(); ++c)
    for (std::size_t d = c + 1; d < fields.size(); ++d) pair_names.push_back(fields[c] + "*" + fields[d]);
  std::ostringstream csv;
  csv.precision(9);
  csv << "quantity,axis,index,field,pred,ref\n";
  nlohmann::ordered_json j;
  j["steps"] = pred.steps;
  // scale(a, k): the profile whose norm a difference is divided by.
  auto emit = [&](const char* quantity, const auto& P, const auto& R, const std::vector<std::string>& names,
                  const auto& scale) {
    nlohmann::ordered_json q;
    for (std::size_t a = 0; a < P.size(); ++a)
      for (std::size_t k = 0; k < names.size(); ++k) {
        double diff2 = 0, ref2 = 0;
        const std::vector<double>& S = scale(a, k);
        for (std::size_t i = 0; i < P[a][k].size(); ++i) {
          csv << quantity << ',' << a << ',' << i << ',' << names[k] << ',' << P[a][k][i] << ',' << R[a][k][i]
              << '\n';
          diff2 += (P[a][k][i] - R[a][k][i]) * (P[a][k][i] - R[a][k][i]);
          ref2 += S[i] * S[i];
        }
        q["axis" + std::to_string(a)][names[k]] = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
      }
    j[std::string(quantity) + "_rel_l2"] = q;
  };
  // A mean profile is compared against the reference's fluctuation scale: mean fields are often
  // near zero (periodic flows), where a difference relative to the mean itself means nothing.
  emit("mean", pred.mean, ref.mean, fields,
       [&](std::size_t a, std::size_t k) -> const std::vector<double>& { return ref.rms[a][k]; });
  emit("rms", pred.rms, ref.rms, fields,
       [&](std::size_t a, std::size_t k) -> const std::vector<double>& { return ref.rms[a][k]; });
  if (!pair_names.empty())
    emit("cross", pred.cross, ref.cross, pair_names,
         [&](std::size_t a, std::size_t k) -> const std::vector<double>& { return ref.cross[a][k]; });
  std::ostringstream spectra;
  spectra.precision(9);
  spectra << "axis,k,pred,ref\n";
  nlohmann::ordered_json sj;
  for (std::size_t a = 0; a < pred.spectrum.size(); ++a) {
    for (std::size_t k = 0; k < pred.spectrum[a].size(); ++k)
      spectra << a << ',' << k << ',' << pred.spectrum[a][k] << ',' << ref.spectrum[a][k] << '\n';
    const int shells = static_cast<int>(ref.spectrum[a].size());
    sj["axis" + std::to_string(a)] =
        spectrum_log_error(pred.spectrum[a].data(), ref.spectrum[a].data(), shells, shells - 1);
  }
  j["spectrum_log_error_decades"] = sj;
  std::string spectra_path = csv_path;
  if (spectra_path.size() > 4 && spectra_path.compare(spectra_path.size() - 4, 4, ".csv") == 0)
    spectra_path.resize(spectra_path.size() - 4);
  io::write_text_atomic(spectra_path + "_spectra.csv", spectra.str());
  io::write_text_atomic(csv_path, csv.str());
  io::write_text_atomic(json_path, j.dump(2) + "\n");
}

template class ProfileStats<ExecSpace>;
#ifdef KOKKOS_ENABLE_CUDA
template class ProfileStats<HostExec>;
#endif

}  // namespace surro::op
