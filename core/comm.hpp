#pragma once
// The processes of one run (issue #13): rank, size and local rank, and the few collectives
// data-parallel training and parallel generation need. Host buffers only; device data is staged
// by the caller. Built with SURRO_MPI (CMake) the run is MPI_COMM_WORLD when a launcher started the
// process (mpirun/srun: OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK or SLURM_NTASKS with SLURM_PROCID
// in the environment); otherwise, and always without SURRO_MPI, it is one process: size 1, rank 0,
// every collective the identity, and MPI_Init is never called (a laptop run needs no MPI runtime).
//
// Determinism: sums are formed in rank order (each rank adds its slice of the vector over ranks
// 0, 1, ..., N - 1 in double, then the slices are all-gathered), so a rank count reproduces itself
// bit for bit; MPI_Allreduce's own order is not fixed by the standard and is not used for sums.
//
// CUDA builds with NCCL (CMake SURRO_NCCL, core/comm_device.hpp): once Kokkos has started,
// start_device() chooses NCCL for more than one rank (or for one, with SURRO_COMM=nccl); the
// gradient, the scalar sums and max() below then run as ncclAllReduce on the GPU, whose order is
// NCCL's (fixed for a fixed rank count and topology, docs/hpc.md), not rank order. MPI itself is
// never handed a device pointer, so it need not be CUDA-aware.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace surro::comm {

// Starts MPI when built with it and a launcher started this process; idempotent. Call before any
// other function here (app/cli.cpp does, before Kokkos starts). finalize() at exit.
void initialize(int* argc, char*** argv);
void finalize();
// An error on one rank would leave the others waiting in a collective: with size() > 1 this ends
// every rank (MPI_Abort with `code`); with one process it returns and the caller exits normally.
void abort_all(int code);
bool built();      // built with SURRO_MPI
bool active();     // MPI was started (size may still be 1)
int rank();        // 0 .. size() - 1
int size();        // processes of the run
int local_rank();  // rank among the processes of this node (picks the GPU)
// Processes of this run on this node: the MPI node communicator's size when MPI is active, else
// what the launcher announced (OMPI_COMM_WORLD_LOCAL_SIZE), else 1. Shares the node's cores out
// (gemm::share_host_blas_threads).
int local_size();
// The process count an MPI launcher announced in the environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE),
// 1 when none: more than 1 while active() is false means a build without SURRO_MPI was started
// as one of several processes, each of which would run the whole job.
int launcher_size();

// NCCL: built in (CMake SURRO_NCCL); the version of the library loaded ("2.28.9", "" without it);
// whether start_device() chose it for this run.
bool nccl_built();
std::string nccl_version();
bool nccl_active();
// Whether sums over ranks do anything: more than one rank, or NCCL chosen for one (SURRO_COMM=nccl,
// which runs the NCCL path on a single GPU). False: every sum and max is the identity.
bool reducing();

void barrier();
// buffer (n) on every rank := rank `root`'s.
void broadcast(void* data, std::size_t bytes, int root = 0);
// values (n), host memory, on every rank := the sum over ranks, added in rank order in double (with
// NCCL active: in NCCL's order, in double, through a device buffer).
void sum(double* values, std::size_t n);
void sum(float* values, std::size_t n);
double sum(double value);
long long sum(long long value);
// The maximum over ranks (stop flags).
int max(int value);

}  // namespace surro::comm
