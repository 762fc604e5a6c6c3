#pragma once
// Scalar sums whose rounding does not depend on the thread count.
//
// Kokkos::parallel_reduce on a host space (OpenMP, Threads) gives each thread a contiguous block
// of the range and adds the thread totals together: the grouping of the terms, hence the last bits
// of a floating-point sum, changes with OMP_NUM_THREADS. The sums below fix the grouping on host
// spaces: the range [0, n) is cut into chunks whose boundaries depend on n alone, each chunk is
// summed left to right by one thread, and the chunk totals are added left to right. So Serial and
// OpenMP with any number of threads give the same bits. Nothing is allocated (the chunk totals
// live in a fixed array on the caller's stack), so these can run inside a training step.
//
// On a device space the sums stay Kokkos::parallel_reduce: its grouping depends on the range and
// the launch configuration only, so a given GPU reproduces its own bits run after run (a CPU and a
// GPU do not agree bit for bit in any case: their compilers contract multiply-adds differently).
#include "core/types.hpp"

namespace surro::reduce {

// Most chunks a host sum is cut into, and the fewest terms a chunk of ordered_sum holds (below
// that the range is cut into fewer chunks; ordered_team_sum's terms are whole samples, one may be
// a chunk). 256 chunks give work to up to 256 threads. These numbers fix the rounding and are part
// of the result's definition: changing them changes the last bits of every sum.
inline constexpr index_t kMaxChunks = 256;
inline constexpr index_t kMinChunk = 512;

// Number of chunks for n terms: min(kMaxChunks, max(1, floor(n / min_chunk))), and 0 for n = 0;
// so every chunk holds at least min_chunk terms, or all n when n < min_chunk.
KOKKOS_INLINE_FUNCTION constexpr index_t chunk_count(index_t n, index_t min_chunk) {
  if (n <= 0) return 0;
  const index_t c = n / min_chunk;
  return c < 1 ? 1 : (c < kMaxChunks ? c : kMaxChunks);
}

// First term of chunk c of P over [0, n): chunks differ in length by at most one term.
KOKKOS_INLINE_FUNCTION constexpr index_t chunk_begin(index_t n, index_t P, index_t c) {
  return (n / P) * c + (c < n % P ? c : n % P);
}

namespace impl {

template <class F>
struct ChunkSums {
  F f;
  index_t n, P;
  double* partial;  // (P)
  KOKKOS_INLINE_FUNCTION void operator()(const index_t c) const {
    const index_t last = chunk_begin(n, P, c + 1);
    double s = 0.0;
    for (index_t i = chunk_begin(n, P, c); i < last; ++i) s += f(i);
    partial[c] = s;
  }
};

template <class Exec, class F>
struct TeamChunkSums {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  F f;
  index_t n, P;
  double* partial;  // (P)
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t c = team.league_rank(), last = chunk_begin(n, P, c + 1);
    double s = 0.0;
    for (index_t b = chunk_begin(n, P, c); b < last; ++b) s += f(team, b);
    Kokkos::single(Kokkos::PerTeam(team), [&]() { partial[c] = s; });
  }
};

template <class F>
struct RangeReduce {
  F f;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i, double& acc) const { acc += f(i); }
};

template <class Exec, class F>
struct TeamReduce {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  F f;
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team, double& acc) const {
    const double v = f(team, index_t(team.league_rank()));
    Kokkos::single(Kokkos::PerTeam(team), [&]() { acc += v; });
  }
};

inline double sum_in_order(const double* partial, index_t P) {
  double s = 0.0;
  for (index_t c = 0; c < P; ++c) s += partial[c];
  return s;
}

}  // namespace impl

// sum_{i < n} f(i), f(i) -> double called once per i (it may also write element i of an output).
// Fences exec. Host spaces: the fixed chunk order above; device spaces: Kokkos::parallel_reduce.
template <class Exec, class F>
double ordered_sum(const Exec& exec, const std::string& label, index_t n, const F& f) {
  if (n <= 0) return 0.0;
  if constexpr (is_device_exec_v<Exec>) {
    double total = 0.0;
    Kokkos::parallel_reduce(label, Kokkos::RangePolicy<Exec>(exec, 0, n), impl::RangeReduce<F>{f}, total);
    return total;
  } else {
    double partial[kMaxChunks];  // (P)
    const index_t P = chunk_count(n, kMinChunk);
    Kokkos::parallel_for(label, Kokkos::RangePolicy<Exec>(exec, 0, P), impl::ChunkSums<F>{f, n, P, partial});
    exec.fence();
    return impl::sum_in_order(partial, P);
  }
}

// sum_{b < count} f(team, b), where every thread of a team calls f(team, b) and gets the same value
// back (f may use team-level parallel loops and reductions over b's items). On a device each b is a
// team; on a host space a team (of one thread with Kokkos::AUTO) takes a chunk of consecutive b in
// order. Fences exec.
template <class Exec, class F>
double ordered_team_sum(const Exec& exec, const std::string& label, index_t count, const F& f) {
  if (count <= 0) return 0.0;
  if constexpr (is_device_exec_v<Exec>) {
    double total = 0.0;
    Kokkos::parallel_reduce(label, Kokkos::TeamPolicy<Exec>(exec, int(count), Kokkos::AUTO),
                            impl::TeamReduce<Exec, F>{f}, total);
    return total;
  } else {
    double partial[kMaxChunks];  // (P)
    const index_t P = chunk_count(count, 1);
    Kokkos::parallel_for(label, Kokkos::TeamPolicy<Exec>(exec, int(P), Kokkos::AUTO),
                         impl::TeamChunkSums<Exec, F>{f, count, P, partial});
    exec.fence();
    return impl::sum_in_order(partial, P);
  }
}

}  // namespace surro::reduce
