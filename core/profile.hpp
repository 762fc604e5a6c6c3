#pragma once
// An opt-in, fenced profiler built on Kokkos' tool callbacks, for machines without nsys or ncu.
// Once enabled, every Kokkos kernel and every ScopedRegion (core/timer.hpp) is timed between two
// device fences, and report() lists the totals per name. The fences serialize the device and the
// host, so absolute times include launch latency and are an upper bound on the unprofiled run;
// their proportions say where a step spends its time. Regions are inclusive of what runs inside
// them (cuFFT and cuBLAS calls appear only through the regions around them).
//
// `surro` enables it when the environment has SURRO_PROFILE=1 and prints the report on exit;
// the benchmarks take --profile.
#include <string>

namespace surro::profile {

// Registers the callbacks. Call after Kokkos::initialize; idempotent.
void enable();
bool enabled();
// Discards what was recorded so far (e.g. the warm-up).
void reset();
// Kernels and regions by total time, the `top` largest of each: name, calls, total ms, mean us,
// share of the profiled wall time.
std::string report(int top = 25);

}  // namespace surro::profile
