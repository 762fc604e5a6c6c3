#pragma once
// What the model benchmarks (bench_fno, bench_ifactformer) share: deterministic inputs, the
// device-memory measure, the --dump files the PyTorch peers read, and the median.
#include "core/backend_info.hpp"
#include "core/build_info.hpp"
#include "core/config.hpp"
#include "core/device_graph.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/io.hpp"
#include "core/profile.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifdef KOKKOS_ENABLE_CUDA
#include <cuda_runtime.h>
#endif

namespace bench {

using surro::index_t;
using json = surro::config::json;

// x = U[-1, 1) from Philox(seed), stream `stream`: the same inputs and targets on every backend.
template <class Exec>
void fill_uniform(const Exec& exec, float* x /* (n) */, index_t n, std::uint64_t seed, std::uint64_t stream) {
  const surro::rng::Philox rng{seed};
  Kokkos::parallel_for(
      "surro::bench::fill_uniform", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { x[i] = 2.0f * rng.uniform<float>(stream, i) - 1.0f; });
}

// Device bytes in use (every process), or -1 without CUDA.
// --matmul fp32|tf32 (empty: fp32), the benchmarks' form of model.matmul_precision.
inline surro::gemm::Options matmul_flag(const std::string& value) {
  SURRO_REQUIRE(value.empty() || value == "fp32" || value == "tf32",
                "--matmul: expected fp32 or tf32, got '" << value << "'");
  surro::gemm::Options o;
  o.allow_tf32 = value == "tf32";
  return o;
}

// --graph on|off (empty: off): the inference forward replayed as one CUDA graph
// (core/device_graph.hpp; other spaces run it directly).
inline bool graph_flag(const std::string& value) {
  SURRO_REQUIRE(value.empty() || value == "on" || value == "off",
                "--graph: expected on or off, got '" << value << "'");
  return value == "on";
}

inline double device_used_bytes() {
#ifdef KOKKOS_ENABLE_CUDA
  std::size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) return double(total_b - free_b);
#endif
  return -1.0;
}

// Copies n floats from the device to `path` (raw float32, native byte order).
inline void dump_floats(const std::string& path, const float* d /* (n) on the device */, index_t n) {
  surro::View1<float, surro::HostMem> host("surro::bench::dump", n);
  using Device = Kokkos::View<const float*, Kokkos::LayoutRight, surro::MemSpace,
                              Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  Kokkos::deep_copy(host, Device(d, n));
  surro::io::write_text_atomic(path,
                               std::string(reinterpret_cast<const char*>(host.data()), sizeof(float) * n));
}

// The parameter table as the peers read it: name, shape, kind, offset, count, frozen.
inline json table_json(const surro::op::ParamTable& table) {
  json slots = json::array();
  for (const auto& s : table.slots())
    slots.push_back({{"name", s.name},
                     {"shape", s.shape},
                     {"kind", s.kind == surro::op::ParamKind::complex ? "complex" : "real"},
                     {"offset", s.offset},
                     {"count", s.count},
                     {"frozen", s.frozen}});
  return slots;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// `warmup` calls, then `reps` repetitions of `iters` back-to-back calls between fences. Writes the
// run's fields into `line`: device, commit, timing settings, ms (median per call), ms_min,
// ms_max, enqueue_ms (median per call of the host's time until the last call returned, before the
// closing fence: near ms, the host's launches bound the call, not the device), and resident_mib
// (device memory in use after the warm-up minus `used0`, the baseline taken after
// Kokkos::initialize; null without CUDA). Every buffer is planned before the warm-up ends, so
// this is the peak.
template <class Exec, class Call>
void time_calls(const Exec& exec, int warmup, int reps, int iters, double used0, Call&& call, json& line) {
  for (int i = 0; i < warmup; ++i) call();
  exec.fence();
  const double used1 = device_used_bytes();
  std::vector<double> ms, enqueue;
  for (int r = 0; r < reps; ++r) {
    exec.fence();
    Kokkos::Timer t;
    for (int i = 0; i < iters; ++i) call();
    enqueue.push_back(t.seconds() * 1e3 / iters);
    exec.fence();
    ms.push_back(t.seconds() * 1e3 / iters);
  }
  const json info = surro::backend_info();
  line["space"] = Exec::name();
  line["device"] = info["device"].value("name", std::string("cpu"));
  line["threads"] = Exec().concurrency();
  line["git"] = surro::kGitHash;
  line["warmup"] = warmup;
  line["reps"] = reps;
  line["iters"] = iters;
  line["ms"] = median(ms);
  line["ms_min"] = *std::min_element(ms.begin(), ms.end());
  line["ms_max"] = *std::max_element(ms.begin(), ms.end());
  line["enqueue_ms"] = median(enqueue);
  line["resident_mib"] = used0 >= 0 ? json(double(used1 - used0) / (1 << 20)) : json(nullptr);
}

// After the timed calls of a --graph run: line["graph"] is the recording's state ("recorded", or
// "direct: " and the reason, CUDA's where recording failed) and line["graph_max_abs_diff"] the
// largest |y_replayed - y_direct| over the output `y` (n floats on the device), y_direct from one
// direct call of `direct`. A replay runs the recorded kernels on the same data, so anything but 0
// is a defect.
template <class Exec, class Direct>
void graph_report(const Exec& exec, const surro::DeviceGraph& graph, Direct&& direct,
                  const float* y /* (n) */, index_t n, json& line) {
  using Device = Kokkos::View<const float*, Kokkos::LayoutRight, surro::MemSpace,
                              Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
  surro::View1<float, surro::HostMem> replayed("surro::bench::replayed", n), again("surro::bench::direct", n);
  exec.fence();
  Kokkos::deep_copy(replayed, Device(y, n));
  direct();
  exec.fence();
  Kokkos::deep_copy(again, Device(y, n));
  double diff = 0.0;
  for (index_t i = 0; i < n; ++i) diff = std::max(diff, double(std::abs(replayed(i) - again(i))));
  using State = surro::DeviceGraph::State;
  const State st = graph.state();
  line["graph"] = st == State::recorded ? std::string("recorded")
                  : st == State::direct ? "direct: " + graph.failure()
                                        : std::string("not recorded (not a CUDA space)");
  line["graph_max_abs_diff"] = diff;
}

// SURRO_PROFILE=1: `iters` more calls under the fenced profiler (core/profile.hpp), its table on
// stderr. Call after time_calls: the timings are not affected.
template <class Call>
void profile_calls(int iters, Call&& call) {
  const char* env = std::getenv("SURRO_PROFILE");
  if (!env || std::string(env) != "1") return;
  surro::profile::enable();
  surro::profile::reset();
  for (int i = 0; i < iters; ++i) call();
  std::fprintf(stderr, "%s", surro::profile::report(40).c_str());
}

}  // namespace bench
