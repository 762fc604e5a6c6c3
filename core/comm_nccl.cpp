// NCCL behind core/comm.hpp; see comm_nccl.hpp. Built only with SURRO_NCCL (CUDA + MPI + NCCL).
#include "core/comm_nccl.hpp"

#include "core/comm.hpp"
#include "core/error.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

namespace surro::comm::nccl {
namespace {

ncclComm_t g_comm = nullptr;
cudaStream_t g_stream = nullptr;  // start()'s: orders the host-value sums
void* g_scratch = nullptr;        // (g_scratch_bytes): host values on their way through NCCL
std::size_t g_scratch_bytes = 0;

void check(ncclResult_t rc, const char* what) {
  if (rc == ncclSuccess) return;
  const char* last = ncclGetLastError(g_comm);
  SURRO_THROW(ErrorKind::runtime, "NCCL: " << what << " failed: " << ncclGetErrorString(rc)
                                           << (last && *last ? std::string(" (") + last + ")" : std::string())
                                           << "; NCCL_DEBUG=WARN prints NCCL's reason, SURRO_COMM=host "
                                           << "sums through MPI instead");
}

void check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess)
    SURRO_THROW(ErrorKind::runtime, "NCCL: " << what << " failed: " << cudaGetErrorString(rc));
}

void require_running(const char* what) {
  if (!g_comm) SURRO_THROW(ErrorKind::runtime, "NCCL: " << what << " before comm::start_device()");
}

// g_scratch holds at least `bytes`.
void reserve(std::size_t bytes) {
  if (bytes <= g_scratch_bytes) return;
  if (g_scratch) check(cudaFree(g_scratch), "cudaFree");
  g_scratch = nullptr;
  g_scratch_bytes = 0;
  check(cudaMalloc(&g_scratch, bytes), "cudaMalloc (NCCL scratch)");
  g_scratch_bytes = bytes;
}

// values (bytes) on the host := their all-reduce over ranks, through g_scratch on g_stream.
void reduce_host(void* values, std::size_t count, std::size_t bytes, ncclDataType_t type, ncclRedOp_t op) {
  require_running("a sum");
  reserve(bytes);
  check(cudaMemcpyAsync(g_scratch, values, bytes, cudaMemcpyHostToDevice, g_stream), "cudaMemcpyAsync");
  check(ncclAllReduce(g_scratch, g_scratch, count, type, op, g_comm, g_stream), "ncclAllReduce");
  check(cudaMemcpyAsync(values, g_scratch, bytes, cudaMemcpyDeviceToHost, g_stream), "cudaMemcpyAsync");
  check(cudaStreamSynchronize(g_stream), "cudaStreamSynchronize");
}

}  // namespace

std::string version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  // 2.9 and later: major * 10000 + minor * 100 + patch (earlier: major * 1000 + minor * 100 + patch).
  if (v < 10000)
    return std::to_string(v / 1000) + "." + std::to_string(v / 100 % 10) + "." + std::to_string(v % 100);
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

bool running() {
  return g_comm != nullptr;
}

void start(void* stream) {
  if (g_comm) return;
  ncclUniqueId id{};
  if (comm::rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  comm::broadcast(&id, sizeof(id), 0);  // a host struct: any MPI can carry it
  ncclComm_t made = nullptr;
  check(ncclCommInitRank(&made, comm::size(), id, comm::rank()), "ncclCommInitRank");
  g_comm = made;
  g_stream = static_cast<cudaStream_t>(stream);
  reserve(64);
}

void stop() {
  if (!g_comm) return;
  // Finalize flushes this rank's outstanding operations; every rank calls stop() at exit. (An error
  // on one of several ranks never gets here: comm::abort_all ends the job first.)
  ncclCommFinalize(g_comm);
  ncclCommDestroy(g_comm);
  g_comm = nullptr;
  if (g_scratch) cudaFree(g_scratch);
  g_scratch = nullptr;
  g_scratch_bytes = 0;
  g_stream = nullptr;
}

void sum(float* values, std::size_t n, void* stream) {
  require_running("a gradient sum");
  // In place; float in float, in NCCL's order (ring or tree over the ranks, fixed for a given rank
  // count, topology, NCCL version and algorithm: docs/hpc.md).
  check(ncclAllReduce(values, values, n, ncclFloat, ncclSum, g_comm, static_cast<cudaStream_t>(stream)),
        "ncclAllReduce (gradient)");
}

void sum_host(double* values, std::size_t n) {
  reduce_host(values, n, n * sizeof(double), ncclDouble, ncclSum);
}

int max_host(int value) {
  int v = value;
  reduce_host(&v, 1, sizeof(int), ncclInt32, ncclMax);
  return v;
}

}  // namespace surro::comm::nccl
