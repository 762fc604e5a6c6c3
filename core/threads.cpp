#include "core/threads.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace surro {

unsigned usable_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return unsigned(CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

unsigned host_workers(std::size_t n, unsigned threads) {
  const std::size_t t = threads == 0 ? usable_cpus() : threads;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min(t, n)));
}

void host_parallel_for(std::size_t n, unsigned threads,
                       const std::function<void(std::size_t, unsigned)>& work) {
  if (n == 0) return;
  const unsigned workers = host_workers(n, threads);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::size_t error_index = std::numeric_limits<std::size_t>::max();
  std::exception_ptr error;
  auto run = [&](unsigned worker) {
    for (std::size_t i = next++; i < n && !failed; i = next++) {
      try {
        work(i, worker);
      } catch (...) {  // nothing may leave a thread (std::terminate): kept for the caller
        failed = true;
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (unsigned w = 1; w < workers; ++w) {
    try {
      pool.emplace_back(run, w);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running (and this one) share the indices
    }
  }
  run(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace surro
