#pragma once
// What the model benchmarks (bench_fno, bench_ifactformer) share: deterministic inputs, the
// device-memory measure, the --dump files the PyTorch peers read, and the median.
#include "core/config.hpp"
#include "core/io.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdint>
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

}  // namespace bench
