#pragma once
// Host worker threads for work that is not a Kokkos kernel: filtering file chunks, writing the files
// of a series. Kokkos' host space may be Serial and the device busy with the model; these use
// std::thread and are pure host code (no Kokkos header).
#include <cstddef>
#include <functional>

namespace surro {

// The CPUs this process may run on: its affinity mask (a Slurm task's cores, not the node's), else
// the hardware's thread count; at least 1.
unsigned usable_cpus();

// The threads host_parallel_for(n, threads, ...) uses: min(threads, n), with threads = 0 meaning
// usable_cpus(); at least 1 (also for n = 0).
unsigned host_workers(std::size_t n, unsigned threads = 0);

// Runs work(i, worker) for every i in [0, n) on host_workers(n, threads) threads, the calling thread
// being worker 0. worker < host_workers(n, threads), and one worker runs one call at a time, so a
// caller may keep scratch per worker. Indices are handed out in increasing order. After a call
// throws, no further index starts; once every thread has stopped, the exception of the lowest
// failed index is rethrown. Where the system refuses a thread, the ones started do the work.
void host_parallel_for(std::size_t n, unsigned threads,
                       const std::function<void(std::size_t, unsigned)>& work);

}  // namespace surro
