#include "core/comm_device.hpp"

#include "core/comm.hpp"
#include "core/error.hpp"
#ifdef SURRO_NCCL
#include "core/comm_nccl.hpp"
#endif

#include <cstdlib>
#include <string>
#include <vector>

namespace surro::comm {
namespace {

// SURRO_COMM, checked: "auto", "host" or "nccl".
std::string requested_backend() {
  const char* env = std::getenv("SURRO_COMM");
  const std::string mode = env && *env ? env : "auto";
  if (mode != "auto" && mode != "host" && mode != "nccl")
    SURRO_THROW(ErrorKind::usage,
                "SURRO_COMM (environment): expected auto, host or nccl, got \"" << mode << "\"");
  if (mode == "nccl" && !nccl_built())
    SURRO_THROW(ErrorKind::usage,
                "SURRO_COMM=nccl: this surro is built without NCCL (it needs a CUDA build with "
                    << "SURRO_MPI=ON and NCCL found, CMake SURRO_NCCL); unset SURRO_COMM");
  return mode;
}

std::vector<float> g_staging;  // (n): the host copy of the values under the host backend

}  // namespace

void start_device(const ExecSpace& exec) {
  const std::string mode = requested_backend();
#ifdef SURRO_NCCL
  if (nccl::running()) return;
  if (mode == "nccl" || (mode == "auto" && size() > 1)) {
    exec.fence();
    nccl::start(static_cast<void*>(exec.cuda_stream()));
  }
#else
  (void)exec;
  (void)mode;
#endif
}

void stop_device() {
#ifdef SURRO_NCCL
  nccl::stop();
#endif
  g_staging.clear();
  g_staging.shrink_to_fit();
}

const char* device_backend() {
  return nccl_active() ? "nccl" : "host";
}

void sum_device(const ExecSpace& exec, float* values, std::size_t n) {
  if (!reducing() || n == 0) return;
#ifdef SURRO_NCCL
  if (nccl::running()) {
    nccl::sum(values, n, static_cast<void*>(exec.cuda_stream()));
    return;
  }
#endif
  exec.fence();
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible) {
    comm::sum(values, n);  // host memory already: no copy
  } else {
    g_staging.resize(n);
    Kokkos::View<float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> host(g_staging.data(), n);  // (n)
    Kokkos::View<float*, MemSpace, Kokkos::MemoryUnmanaged> device(values, n);                   // (n)
    Kokkos::deep_copy(exec, host, device);
    exec.fence();
    comm::sum(g_staging.data(), n);
    Kokkos::deep_copy(exec, device, host);
    exec.fence();
  }
}

}  // namespace surro::comm
