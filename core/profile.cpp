#include "core/profile.hpp"

#include "core/gemm.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

namespace surro::profile {

namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  long long calls = 0;
  double seconds = 0;
};

struct Work {
  double bytes = 0, flops = 0;
  Peak peak = Peak::none;
};

struct State {
  bool enabled = false;
  Limits limits;
  Clock::time_point since = Clock::now();
  std::map<std::string, Totals> kernels, regions;
  std::map<std::string, Work> work;  // by kernel or region name
  std::vector<std::pair<std::string, Clock::time_point>> open_kernels;  // by kernel id
  std::vector<std::pair<std::string, Clock::time_point>> open_regions;  // a stack
};

State& state() {
  static State s;
  return s;
}

void begin_kernel(const char* name, const std::uint32_t, std::uint64_t* id) {
  Kokkos::fence();
  State& s = state();
  *id = s.open_kernels.size();
  s.open_kernels.emplace_back(name, Clock::now());
}

void end_kernel(const std::uint64_t id) {
  Kokkos::fence();
  State& s = state();
  if (id >= s.open_kernels.size()) return;
  auto& [name, start] = s.open_kernels[id];
  Totals& t = s.kernels[name];
  ++t.calls;
  t.seconds += std::chrono::duration<double>(Clock::now() - start).count();
  if (id + 1 == s.open_kernels.size()) s.open_kernels.pop_back();
}

void push_region(const char* name) {
  Kokkos::fence();
  state().open_regions.emplace_back(name, Clock::now());
}

void pop_region() {
  Kokkos::fence();
  State& s = state();
  if (s.open_regions.empty()) return;
  Totals& t = s.regions[s.open_regions.back().first];
  ++t.calls;
  t.seconds += std::chrono::duration<double>(Clock::now() - s.open_regions.back().second).count();
  s.open_regions.pop_back();
}

double peak_gflops(const Limits& l, Peak p) {
  switch (p) {
    case Peak::fp32: return l.fp32_gflops;
    case Peak::tf32: return l.tf32_gflops;
    case Peak::fp64: return l.fp64_gflops;
    case Peak::none: break;
  }
  return 0;
}

std::string table(const char* title, const std::map<std::string, Totals>& m, int top, double wall,
                  const State& s) {
  std::vector<std::pair<std::string, Totals>> rows(m.begin(), m.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  std::ostringstream out;
  out << title << " (fenced; " << rows.size() << " names)\n";
  char line[640];
  std::snprintf(line, sizeof(line), "  %10s %10s %10s %6s %9s %6s %9s %6s  %s\n", "total ms", "calls", "mean us",
                "share", "GB/s", "of bw", "GFLOP/s", "of pk", "name");
  out << line;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < top; ++i) {
    const Totals& t = rows[i].second;
    char rates[96] = "        -      -         -      -";
    if (auto w = s.work.find(rows[i].first); w != s.work.end() && t.seconds > 0) {
      const double gbs = w->second.bytes / t.seconds * 1e-9, gflops = w->second.flops / t.seconds * 1e-9;
      const double peak = peak_gflops(s.limits, w->second.peak);
      char g[24] = "        -", bw[24] = "     -", f[24] = "        -", pk[24] = "     -";
      if (gbs > 0) std::snprintf(g, sizeof(g), "%9.1f", gbs);
      if (gflops > 0) std::snprintf(f, sizeof(f), "%9.1f", gflops);
      if (s.limits.copy_gbs > 0 && gbs > 0) std::snprintf(bw, sizeof(bw), "%5.1f%%", 100 * gbs / s.limits.copy_gbs);
      if (peak > 0 && gflops > 0) std::snprintf(pk, sizeof(pk), "%5.1f%%", 100 * gflops / peak);
      std::snprintf(rates, sizeof(rates), "%s %s %s %s", g, bw, f, pk);
    }
    std::snprintf(line, sizeof(line), "  %10.3f %10lld %10.2f %5.1f%% %s  %s\n", 1e3 * t.seconds, t.calls,
                  1e6 * t.seconds / std::max<long long>(1, t.calls), 100.0 * t.seconds / std::max(wall, 1e-12),
                  rates, rows[i].first.c_str());
    out << line;
  }
  return out.str();
}

// Median-free and short: one warm-up, then the best of three, which is what the hardware can do.
template <class F>
double best_seconds(F&& f) {
  using Exec = Kokkos::DefaultExecutionSpace;
  f();
  Exec().fence();
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    Kokkos::Timer t;
    f();
    Exec().fence();
    best = std::min(best, t.seconds());
  }
  return best;
}

template <class Real>
double gemm_gflops(int n, bool tf32) {
  using Exec = Kokkos::DefaultExecutionSpace;
  Exec exec;
  View1<Real> a("surro::profile::calibrate::a", std::size_t(n) * n), b("surro::profile::calibrate::b", std::size_t(n) * n),
      c("surro::profile::calibrate::c", std::size_t(n) * n);  // (n, n) each
  Kokkos::deep_copy(a, Real(1));
  Kokkos::deep_copy(b, Real(0.5));
  gemm::Options o;
  o.allow_tf32 = tf32;
  gemm::Gemm<Exec> g(exec, o);
  const gemm::Shape s = gemm::make_shape(gemm::Op::none, gemm::Op::none, n, n, n, n, n, n);
  const double sec = best_seconds([&] { g(exec, s, Real(1), a.data(), b.data(), Real(0), c.data()); });
  return 2.0 * n * double(n) * n / sec * 1e-9;
}

Limits calibrate() {
  using Exec = Kokkos::DefaultExecutionSpace;
  const bool host = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Exec::memory_space>::accessible;
  Limits l;
  {
    const std::size_t n = host ? (std::size_t(64) << 20) : (std::size_t(256) << 20);  // floats: 256 MiB or 1 GiB
    View1<float> src("surro::profile::calibrate::src", n), dst("surro::profile::calibrate::dst", n);
    Kokkos::deep_copy(src, 1.0f);
    const double sec = best_seconds([&] { Kokkos::deep_copy(Exec(), dst, src); });
    l.copy_gbs = 2.0 * n * sizeof(float) / sec * 1e-9;
  }
  l.fp32_gflops = gemm_gflops<float>(host ? 1024 : 8192, false);
  l.fp64_gflops = gemm_gflops<double>(host ? 512 : 4096, false);
  if (!host) l.tf32_gflops = gemm_gflops<float>(8192, true);
  return l;
}

}  // namespace

void enable() {
  State& s = state();
  if (s.enabled) return;
  s.limits = calibrate();  // before the callbacks: its kernels are not part of the profile
  namespace E = Kokkos::Tools::Experimental;
  E::set_begin_parallel_for_callback(begin_kernel);
  E::set_end_parallel_for_callback(end_kernel);
  E::set_begin_parallel_reduce_callback(begin_kernel);
  E::set_end_parallel_reduce_callback(end_kernel);
  E::set_begin_parallel_scan_callback(begin_kernel);
  E::set_end_parallel_scan_callback(end_kernel);
  E::set_push_region_callback(push_region);
  E::set_pop_region_callback(pop_region);
  s.enabled = true;
  s.since = Clock::now();
}

bool enabled() {
  return state().enabled;
}

void reset() {
  State& s = state();
  Kokkos::fence();
  s.kernels.clear();
  s.regions.clear();
  s.work.clear();
  s.since = Clock::now();
}

std::string report(int top) {
  State& s = state();
  Kokkos::fence();
  const double wall = std::chrono::duration<double>(Clock::now() - s.since).count();
  std::ostringstream out;
  const Limits& l = s.limits;
  out << "surro profile: " << 1e3 * wall << " ms profiled; limits measured on " << Kokkos::DefaultExecutionSpace::name()
      << ": copy " << l.copy_gbs << " GB/s, GEMM fp32 " << l.fp32_gflops << " GFLOP/s, tf32 " << l.tf32_gflops
      << ", fp64 " << l.fp64_gflops << "\n"
      << table("kernels", s.kernels, top, wall, s) << table("regions (inclusive)", s.regions, top, wall, s);
  return out.str();
}

const Limits& limits() {
  return state().limits;
}

void add_work(const char* kernel, double bytes, double flops, Peak peak) {
  State& s = state();
  if (!s.enabled) return;
  Work& w = s.work[kernel];
  w.bytes += bytes;
  w.flops += flops;
  w.peak = peak;
}

Region::Region(const std::string& name, double bytes, double flops, Peak peak) {
  add_work(name.c_str(), bytes, flops, peak);
  Kokkos::Profiling::pushRegion(name);
}

Region::~Region() {
  Kokkos::Profiling::popRegion();
}

}  // namespace surro::profile
