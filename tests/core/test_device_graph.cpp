// DeviceGraph (core/device_graph.hpp): a recorded sequence of a Kokkos kernel and a library GEMM,
// replayed on inputs that change between calls at the same addresses, gives what running the work
// directly gives (checked against a host loop, exactly: the same kernels in the same order); on a
// CUDA space the work is called twice (the direct first call and the recording) however many calls
// follow. Work that waits on the host while recorded (a fence) is not recordable: every call still
// returns the right values, run directly, and the reason is kept; so is work with a kernel that
// Kokkos launches through constant memory (a functor of 512 bytes or more: its recorded copy would
// read a host buffer at each replay). SURRO_DEVICE_GRAPH=off turns the
// recording off; a graph constructed off by default records only with SURRO_DEVICE_GRAPH=on.
#include "core/device_graph.hpp"
#include "core/gemm.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <type_traits>
#include <vector>

using namespace surro;

namespace {

// y = 2 x + 1, elementwise (a named functor: nvcc's extended lambdas reject Catch2's static test
// functions).
template <class Mem>
struct Affine {
  View1<float, Mem> x;  // (n)
  View1<float, Mem> y;  // (n)
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const { y(i) = 2.0f * x(i) + 1.0f; }
};

// The same map from a functor of more than 512 bytes, its coefficients in a table that a replay
// reading another functor's bytes would get wrong: Kokkos launches it through constant memory on
// CUDA (Kokkos_Cuda_KernelLaunch.hpp, ConstantMemoryUseThreshold).
template <class Mem>
struct AffineBig {
  View1<float, Mem> x;  // (n)
  View1<float, Mem> y;  // (n)
  float coef[160];      // coef[0] = 2, coef[159] = 1, the rest 0
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const { y(i) = coef[0] * x(i) + coef[159]; }
};
static_assert(sizeof(AffineBig<Kokkos::HostSpace>) > 600, "AffineBig must stay above Kokkos' 512 bytes");

// The work the tests record: y = 2 x + 1 (x, y as (m, k)), then c = y w (w (k, n), c (m, n)).
template <class Exec>
struct Work {
  using Mem = typename Exec::memory_space;
  Exec exec;
  gemm::Gemm<Exec> gemm;
  int m, k, n;
  View1<float, Mem> x, y, w, c;
  bool fence_inside = false;  // a host wait inside the work: not recordable
  int big_kernels = 0;        // > 0: the map runs as that many AffineBig launches: not recordable
  int calls = 0;              // how often the work itself ran (directly or being recorded)

  Work(const Exec& e, int m_, int k_, int n_)
      : exec(e),
        gemm(e),
        m(m_),
        k(k_),
        n(n_),
        x("x", m_ * k_),
        y("y", m_ * k_),
        w("w", k_ * n_),
        c("c", m_ * n_) {
    auto h = Kokkos::create_mirror_view(w);  // w(q, j) = (q n + j) mod 5 - 2: small integers
    for (index_t i = 0; i < index_t(k) * n; ++i) h(i) = float(i % 5) - 2.0f;
    Kokkos::deep_copy(w, h);
  }

  void operator()() {
    ++calls;
    const Kokkos::RangePolicy<Exec> all(exec, 0, index_t(m) * k);
    if (big_kernels == 0) Kokkos::parallel_for("surro::test::device_graph::affine", all, Affine<Mem>{x, y});
    for (int b = 0; b < big_kernels; ++b) {
      AffineBig<Mem> f{x, y, {}};
      f.coef[0] = 2.0f;
      f.coef[159] = 1.0f;
      Kokkos::parallel_for("surro::test::device_graph::affine_big", all, f);
    }
    if (fence_inside) exec.fence();
    gemm::Shape s;
    s.m = m;
    s.n = n;
    s.k = k;
    s.lda = k;
    s.ldb = n;
    s.ldc = n;
    gemm(exec, s, 1.0f, y.data(), w.data(), 0.0f, c.data());
  }

  // Sets x to values that depend on the call number `r`, in place (the same address every call).
  void set_input(int r) {
    auto h = Kokkos::create_mirror_view(x);
    for (index_t i = 0; i < index_t(m) * k; ++i) h(i) = float((i * 7 + r * 3) % 11) - 5.0f;
    Kokkos::deep_copy(x, h);
  }

  // c from a host loop in float, the GEMM's inputs exact small integers: every product and partial sum
  // is an integer below 2^24, so any summation order gives the same float.
  std::vector<float> expected(int r) const {
    auto hw = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), w);
    std::vector<float> out(std::size_t(m) * n, 0.0f);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        float sum = 0.0f;
        for (int q = 0; q < k; ++q) {
          const float xv = float((index_t(i * k + q) * 7 + r * 3) % 11) - 5.0f;
          sum += (2.0f * xv + 1.0f) * hw(index_t(q) * n + j);
        }
        out[std::size_t(i) * n + j] = sum;
      }
    return out;
  }
};

template <class Exec>
bool is_cuda() {
#ifdef KOKKOS_ENABLE_CUDA
  return std::is_same_v<Exec, Kokkos::Cuda>;
#else
  return false;
#endif
}

// Runs the work through `graph` on inputs first .. first + count - 1, checking each call's result.
template <class Exec>
void run_checked(DeviceGraph& graph, Work<Exec>& work, int first, int count) {
  for (int r = first; r < first + count; ++r) {
    CAPTURE(r);
    work.set_input(r);
    graph.run(work.exec, [&] { work(); });
    work.exec.fence();
    CHECK(test::to_host(work.c) == work.expected(r));
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("device graph: replays give the direct results on changing inputs", "[device_graph]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const Exec exec;
  Work<Exec> work(exec, 37, 24, 19);
  DeviceGraph graph;
  const int calls = 6;
  run_checked(graph, work, 0, calls);
  if (is_cuda<Exec>()) {
    CHECK(graph.state() == DeviceGraph::State::recorded);
    CHECK(graph.failure().empty());
    CHECK(work.calls == 2);  // the direct first call and the recording; the other four replayed
  } else {
    CHECK(graph.state() == DeviceGraph::State::fresh);
    CHECK(work.calls == calls);
  }
  // reset() forgets the recording: the next call runs directly again.
  graph.reset();
  const int before = work.calls;
  run_checked(graph, work, calls, 1);
  CHECK(work.calls == before + 1);
}

TEMPLATE_LIST_TEST_CASE("device graph: work that waits on the host runs directly", "[device_graph]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const Exec exec;
  Work<Exec> work(exec, 16, 8, 12);
  work.fence_inside = true;
  DeviceGraph graph;
  run_checked(graph, work, 0, 4);
  if (is_cuda<Exec>()) {
    CHECK(graph.state() == DeviceGraph::State::direct);
    CHECK_FALSE(graph.failure().empty());
    // The first call direct, the failed recording, then the recording's call rerun directly and
    // the last two calls direct.
    CHECK(work.calls == 5);
  } else {
    CHECK(work.calls == 4);
  }
}

// One such launch records without error and is refused at the end of the recording; with two, the
// second one's wait on the event the first recorded fails inside the recording. Either way every
// call gives the right values, and the direct calls after it launch through constant memory again.
TEMPLATE_LIST_TEST_CASE("device graph: kernels launched through constant memory run directly",
                        "[device_graph]", test::ExecSpaces) {
  using Exec = TestType;
  const Exec exec;
  for (const int big : {1, 2}) {
    CAPTURE(big);
    Work<Exec> work(exec, 16, 8, 12);
    work.big_kernels = big;
    DeviceGraph graph;
    run_checked(graph, work, 0, 4);
    if (is_cuda<Exec>()) {
      CHECK(graph.state() == DeviceGraph::State::direct);
      if (big == 1) CHECK_THAT(graph.failure(), Catch::Contains("host memory"));
      CHECK(work.calls == 5);  // as with the fence: first direct, the recording, its rerun, two direct
    } else {
      CHECK(work.calls == 4);
    }
  }
}

TEMPLATE_LIST_TEST_CASE("device graph: SURRO_DEVICE_GRAPH=off runs every call directly", "[device_graph]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const Exec exec;
  Work<Exec> work(exec, 9, 4, 6);
  DeviceGraph graph;
  ::setenv("SURRO_DEVICE_GRAPH", "off", 1);
  run_checked(graph, work, 0, 3);
  ::unsetenv("SURRO_DEVICE_GRAPH");
  CHECK(work.calls == 3);
  if (is_cuda<Exec>()) {
    CHECK(graph.state() == DeviceGraph::State::direct);
    CHECK_THAT(graph.failure(), Catch::Contains("SURRO_DEVICE_GRAPH"));
  }
}

TEMPLATE_LIST_TEST_CASE("device graph: off by default records only with SURRO_DEVICE_GRAPH=on",
                        "[device_graph]", test::ExecSpaces) {
  using Exec = TestType;
  const Exec exec;
  Work<Exec> work(exec, 9, 4, 6);
  for (const bool on : {false, true}) {
    CAPTURE(on);
    if (on) ::setenv("SURRO_DEVICE_GRAPH", "on", 1);
    DeviceGraph graph(false);
    const int before = work.calls;
    run_checked(graph, work, 0, 4);
    ::unsetenv("SURRO_DEVICE_GRAPH");
    if (is_cuda<Exec>()) {
      CHECK(graph.state() == (on ? DeviceGraph::State::recorded : DeviceGraph::State::direct));
      CHECK(work.calls - before == (on ? 2 : 4));
    } else {
      CHECK(work.calls - before == 4);
    }
  }
}
