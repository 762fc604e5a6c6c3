#pragma once
// Sums over ranks of data in ExecSpace's memory (the flat gradient of data-parallel training), and
// the choice of how: core/comm.hpp holds the host-side collectives.
//
// The backend is chosen once, by start_device() after Kokkos has started (app/cli.cpp) and before
// any sum; every caller then uses sum_device() whatever it is:
//   nccl: ncclAllReduce in place on exec's CUDA stream (CUDA builds with SURRO_NCCL); comm::sum()
//         and comm::max() go through NCCL too. Chosen for more than one rank; SURRO_COMM=nccl
//         chooses it for one as well (the NCCL path on a single GPU).
//   host: the data is copied to the host, summed over MPI in rank order (comm::sum), copied back;
//         MPI sees host memory only, so it need not be CUDA-aware. Host builds, builds without
//         NCCL, and SURRO_COMM=host.
// SURRO_COMM (environment, same on every rank): auto (the default), host or nccl.
#include "core/types.hpp"

#include <cstddef>

namespace surro::comm {

// Collective when it chooses NCCL (every rank calls it); exec is the instance whose stream orders
// comm::sum() and comm::max() of host values. Idempotent. Throws (usage) for an unknown
// SURRO_COMM, or SURRO_COMM=nccl in a build without NCCL.
void start_device(const ExecSpace& exec);
// Before Kokkos finalizes; idempotent.
void stop_device();
// "nccl" or "host" (also before start_device: "host").
const char* device_backend();

// values (n), in MemSpace, := the sum over ranks on every rank. Under NCCL the sum is enqueued on
// exec's stream and not waited for (later work on exec sees it); under host it has completed on
// return. A no-op when !comm::reducing().
void sum_device(const ExecSpace& exec, float* values, std::size_t n);

}  // namespace surro::comm
