#include "core/backend_info.hpp"

#include "core/build_info.hpp"
#include "core/device_memory.hpp"
#include "core/fft.hpp"
#include "core/gemm.hpp"
#include "core/types.hpp"

#include <cstdlib>
#include <thread>

#ifdef KOKKOS_ENABLE_CUDA
#include <cuda_runtime.h>
#endif

namespace surro {

config::json backend_info() {
  config::json info;
  info["surro"] = {{"version", kVersion}, {"git", kGitHash}};
  const int kv = KOKKOS_VERSION;
  info["kokkos"] = {
      {"version",
       std::to_string(kv / 10000) + "." + std::to_string(kv / 100 % 100) + "." + std::to_string(kv % 100)},
      {"execution_space", ExecSpace::name()},
      {"memory_space", MemSpace::name()},
      {"host_execution_space", HostExec::name()},
      {"host_concurrency", HostExec().concurrency()},
  };
#ifdef KOKKOS_ENABLE_OPENMP
  // The OpenMP pool Kokkos runs on (OMP_NUM_THREADS or --kokkos-num-threads) and the binding
  // variables that decide where its threads sit; results do not depend on the count (core/reduce.hpp).
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "unset";
  };
  info["openmp"] = {{"threads", Kokkos::OpenMP().concurrency()},
                    {"OMP_PROC_BIND", env("OMP_PROC_BIND")},
                    {"OMP_PLACES", env("OMP_PLACES")}};
#endif
  config::json device;
#ifdef KOKKOS_ENABLE_CUDA
  int id = 0;
  cudaGetDevice(&id);
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, id) == cudaSuccess) {
    std::size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    device = {{"kind", "gpu"},
              {"name", prop.name},
              {"index", id},
              {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
              {"multiprocessors", prop.multiProcessorCount},
              {"memory_total_gib", double(total_b) / (1 << 30)},
              {"memory_free_gib", double(free_b) / (1 << 30)}};
  } else {
    device = {{"kind", "gpu"}, {"name", "unavailable"}};
  }
#else
  device = {{"kind", "cpu"}, {"hardware_threads", std::thread::hardware_concurrency()}};
#endif
  info["device"] = device;
  info["fft"] = {{"device", fft::backend_name<ExecSpace>()}, {"host", fft::backend_name<HostExec>()}};
  info["gemm"] = {{"device", gemm::Gemm<ExecSpace>::backend_name()},
                  {"host", gemm::Gemm<HostExec>::backend_name()}};
  return info;
}

std::size_t gpu_free_bytes() {
#ifdef KOKKOS_ENABLE_CUDA
  std::size_t free_b = 0, total_b = 0;
  return cudaMemGetInfo(&free_b, &total_b) == cudaSuccess ? free_b : 0;
#else
  return 0;
#endif
}

}  // namespace surro
