// core/threads.hpp: the host worker pool behind the HDF5 chunk filters and the VTK series writer.
#include "core/threads.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace surro;

TEST_CASE("host_workers: min(threads, n), 0 threads meaning the usable CPUs, at least 1", "[threads]") {
  CHECK(usable_cpus() >= 1);
  CHECK(host_workers(0, 4) == 1);
  CHECK(host_workers(3, 8) == 3);
  CHECK(host_workers(100, 5) == 5);
  CHECK(host_workers(100000, 0) == std::min<unsigned>(usable_cpus(), 100000));
}

TEST_CASE("host_parallel_for: every index once, a worker runs one call at a time", "[threads]") {
  const std::size_t n = 2000;
  const unsigned threads = 4;  // more than this machine's cores is allowed
  std::vector<std::atomic<int>> calls(n);
  std::vector<std::atomic<int>> busy(threads);
  std::atomic<int> overlaps{0}, bad_worker{0};
  std::mutex m;
  std::vector<std::thread::id> ids;
  host_parallel_for(n, threads, [&](std::size_t i, unsigned w) {
    if (w >= host_workers(n, threads)) {
      ++bad_worker;
      return;
    }
    if (busy[w]++ != 0) ++overlaps;
    ++calls[i];
    if (i % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    {
      std::lock_guard<std::mutex> lock(m);
      if (std::find(ids.begin(), ids.end(), std::this_thread::get_id()) == ids.end())
        ids.push_back(std::this_thread::get_id());
    }
    --busy[w];
  });
  CHECK(bad_worker == 0);
  CHECK(overlaps == 0);
  CHECK(std::all_of(calls.begin(), calls.end(), [](const std::atomic<int>& c) { return c == 1; }));
  CHECK(ids.size() <= threads);
  // n = 0 calls nothing; threads = 1 runs everything on the calling thread, in order.
  int none = 0;
  host_parallel_for(0, 4, [&](std::size_t, unsigned) { ++none; });
  CHECK(none == 0);
  std::vector<std::size_t> order;
  const std::thread::id caller = std::this_thread::get_id();
  host_parallel_for(50, 1, [&](std::size_t i, unsigned w) {
    CHECK(w == 0u);
    CHECK(std::this_thread::get_id() == caller);  // worker 0 is the calling thread
    order.push_back(i);
  });
  std::vector<std::size_t> expected(50);
  for (std::size_t i = 0; i < 50; ++i) expected[i] = i;
  CHECK(order == expected);
}

TEST_CASE("host_parallel_for: a failure stops new indices and the lowest failed index's error is thrown",
          "[threads]") {
  // Index 6 fails at once; index 5 waits for that, then fails too: 5's exception, the lowest
  // index's, is the one thrown (had 5 failed first, it would be thrown as well). Every other call
  // sleeps 1 ms: without the stop the 3 workers would run all 4000 indices (4 s); with it, the
  // workers stop after the indices they hold when the failure is recorded. The bound, half of n,
  // leaves room for a loaded machine's scheduling, not for a pool that ignores failures.
  const std::size_t n = 4000;
  std::atomic<std::size_t> highest{0};
  std::atomic<bool> six_failed{false};
  auto run = [&]() {
    host_parallel_for(n, 3, [&](std::size_t i, unsigned) {
      std::size_t h = highest;
      while (i > h && !highest.compare_exchange_weak(h, i)) {
      }
      if (i == 6) {
        six_failed = true;
        throw std::runtime_error("index 6");
      }
      if (i == 5) {
        // (bounded: were no thread to be had, this one would hold 5 and never reach 6)
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!six_failed && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        throw std::runtime_error("index 5");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  };
  CHECK_THROWS_WITH(run(), "index 5");
  CHECK(highest < n / 2);
}
