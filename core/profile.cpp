#include "core/profile.hpp"

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

struct State {
  bool enabled = false;
  Clock::time_point since = Clock::now();
  std::map<std::string, Totals> kernels, regions;
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

std::string table(const char* title, const std::map<std::string, Totals>& m, int top, double wall) {
  std::vector<std::pair<std::string, Totals>> rows(m.begin(), m.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  std::ostringstream out;
  out << title << " (fenced; " << rows.size() << " names)\n";
  char line[512];
  std::snprintf(line, sizeof(line), "  %10s %10s %10s %6s  %s\n", "total ms", "calls", "mean us", "share",
                "name");
  out << line;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < top; ++i) {
    const Totals& t = rows[i].second;
    std::snprintf(line, sizeof(line), "  %10.3f %10lld %10.2f %5.1f%%  %s\n", 1e3 * t.seconds, t.calls,
                  1e6 * t.seconds / std::max<long long>(1, t.calls),
                  100.0 * t.seconds / std::max(wall, 1e-12), rows[i].first.c_str());
    out << line;
  }
  return out.str();
}

}  // namespace

void enable() {
  State& s = state();
  if (s.enabled) return;
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
  s.since = Clock::now();
}

std::string report(int top) {
  State& s = state();
  Kokkos::fence();
  const double wall = std::chrono::duration<double>(Clock::now() - s.since).count();
  std::ostringstream out;
  out << "surro profile: " << 1e3 * wall << " ms profiled\n"
      << table("kernels", s.kernels, top, wall) << table("regions (inclusive)", s.regions, top, wall);
  return out.str();
}

}  // namespace surro::profile
