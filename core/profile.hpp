#pragma once
// An opt-in, fenced profiler built on Kokkos' tool callbacks, for machines without nsys or ncu.
// Once enabled, every Kokkos kernel and every ScopedRegion (core/timer.hpp) is timed between two
// device fences, and report() lists the totals per name. The fences serialize the device and the
// host, so absolute times include launch latency and are an upper bound on the unprofiled run;
// their proportions say where a step spends its time. Regions are inclusive of what runs inside
// them (cuFFT and cuBLAS calls appear only through the regions around them).
//
// `surro` enables it when the environment has SURRO_PROFILE=1 and prints the report on exit;
// the benchmarks do the same.
//
// Rates. A kernel or region may declare the bytes it must move and the flops it computes per call
// (add_work, Region): the report then shows achieved GB/s and GFLOP/s, and, against the copy
// bandwidth and the GEMM peaks that calibrate() measures on the same device at enable(), the
// fraction of the limit. The bytes are the compulsory traffic (every input read once, every output
// written once), so a kernel's real traffic and fraction are at least what is shown; its fenced
// time includes a launch and a fence (~10 us), so short kernels read low.
#include <string>

namespace surro::profile {

// Which measured limit a region's flops are compared with.
enum class Peak { none, fp32, tf32, fp64 };

// Registers the callbacks. Call after Kokkos::initialize; idempotent.
void enable();
bool enabled();
// Discards what was recorded so far (e.g. the warm-up).
void reset();
// Kernels and regions by total time, the `top` largest of each: name, calls, total ms, mean us,
// share of the profiled wall time.
std::string report(int top = 25);

// One call of the kernel labelled `kernel` (the label given to parallel_for/reduce) moves `bytes` and
// computes `flops`; call it once per launch, beside the launch. Free while the profiler is off.
void add_work(const char* kernel, double bytes, double flops = 0, Peak peak = Peak::none);

// A fenced region `name` with the work of one call (for library calls: cuBLAS, cuFFT, BLAS, FFTW,
// which Kokkos does not see). Build it only when enabled(): the name is usually formatted.
class Region {
 public:
  Region(const std::string& name, double bytes, double flops = 0, Peak peak = Peak::none);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
};

// The limits the report compares with, measured on the default execution space: device-to-device
// copy bandwidth (GB/s, read + write counted), and float32, TF32 (CUDA) and float64 GEMM throughput
// of the GEMM backend at a large square size (GFLOP/s). enable() measures them once.
struct Limits {
  double copy_gbs = 0, fp32_gflops = 0, tf32_gflops = 0, fp64_gflops = 0;
};
const Limits& limits();

}  // namespace surro::profile
