#pragma once
// NCCL behind core/comm.hpp (built with SURRO_NCCL only; comm.cpp and comm_device.cpp call it).
// No NCCL or CUDA header here: streams travel as void* (a cudaStream_t).
//
// One communicator over the MPI ranks (or over this process alone when MPI did not start), on the
// CUDA device current when start() runs (Kokkos picked it: --kokkos-device-id, by default the
// node-local rank). Every function is collective: every rank calls it, in the same order.
#include <cstddef>
#include <string>

namespace surro::comm::nccl {

std::string version();  // of the library loaded, e.g. "2.28.9"
bool running();
// Rank 0's ncclGetUniqueId, broadcast over MPI (a host struct), then ncclCommInitRank. `stream`
// orders the host-value sums below.
void start(void* stream);
void stop();
// values (n), device memory, := the sum over ranks; enqueued on `stream`, not waited for (work
// later enqueued on the same stream sees the sum).
void sum(float* values, std::size_t n, void* stream);
// Host values (n) through a device buffer, on start()'s stream; returns when they are back.
void sum_host(double* values, std::size_t n);
int max_host(int value);

}  // namespace surro::comm::nccl
