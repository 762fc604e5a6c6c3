// Fixed-order sums (core/reduce.hpp): the chunk layout, agreement with a host loop in the same
// order (bitwise) and with an exact sum (within the bound of recursive summation), and, in an
// OpenMP build, the same bits on instances of 1, 2, 3 and all threads. Also for_each_index's two
// index widths (core/types.hpp), the 64-bit one forced on a small array.
#include "core/reduce.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <climits>
#include <cmath>
#include <vector>

using namespace surro;

namespace {

// Terms of very different magnitudes and both signs, so that the grouping shows in the last bits.
double term(index_t i) {
  return std::ldexp(std::sin(0.37 * double(i) + 1.0), int(i % 23) - 11);
}

// Named functors: Catch2 test functions are static, which nvcc's extended lambdas do not allow.
template <class Mem>
struct Terms {
  View1<double, Mem> x;  // (n)
  View1<double, Mem> y;  // (n): y = 2 x, written by the sum's functor
  KOKKOS_INLINE_FUNCTION double operator()(const index_t i) const {
    y(i) = 2.0 * x(i);
    return x(i);
  }
};

// Sample b's value: its rows [b m, (b + 1) m) of x summed by a team reduction, times (b + 1).
template <class Exec>
struct SampleTerms {
  View1<double, typename Exec::memory_space> x;  // (B m)
  index_t m;
  KOKKOS_INLINE_FUNCTION double operator()(const typename Kokkos::TeamPolicy<Exec>::member_type& team,
                                           const index_t b) const {
    double s = 0.0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, m), [&](const index_t k, double& acc) { acc += x(b * m + k); }, s);
    return s * double(b + 1);
  }
};

// The definition of ordered_sum's result, on the host: chunks left to right, each left to right.
double reference_order(const std::vector<double>& x) {
  const index_t n = index_t(x.size()), P = reduce::chunk_count(n, reduce::kMinChunk);
  double total = 0.0;
  for (index_t c = 0; c < P; ++c) {
    double s = 0.0;
    for (index_t i = reduce::chunk_begin(n, P, c); i < reduce::chunk_begin(n, P, c + 1); ++i) s += x[i];
    total += s;
  }
  return total;
}

template <class Exec>
double sum_on(const Exec& exec, const std::vector<double>& host) {
  using Mem = typename Exec::memory_space;
  auto x = test::to_device<Exec>(host, "test::reduce::x");
  View1<double, Mem> y("test::reduce::y", host.size());
  return reduce::ordered_sum(exec, "test::reduce::sum", index_t(host.size()), Terms<Mem>{x, y});
}

std::vector<double> terms(index_t n) {
  std::vector<double> x(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) x[i] = term(i);
  return x;
}

}  // namespace

TEST_CASE("reduce: chunks cover the range in order, at most kMaxChunks of at least kMinChunk terms",
          "[reduce]") {
  for (index_t n : {index_t(1), index_t(511), index_t(512), index_t(513), index_t(131072), index_t(131073),
                    index_t(10000019)}) {
    const index_t P = reduce::chunk_count(n, reduce::kMinChunk);
    CAPTURE(n, P);
    REQUIRE(P >= 1);
    REQUIRE(P <= reduce::kMaxChunks);
    REQUIRE(reduce::chunk_begin(n, P, 0) == 0);
    REQUIRE(reduce::chunk_begin(n, P, P) == n);
    for (index_t c = 0; c < P; ++c) {
      const index_t len = reduce::chunk_begin(n, P, c + 1) - reduce::chunk_begin(n, P, c);
      REQUIRE(len >= (n < reduce::kMinChunk ? n : reduce::kMinChunk));
      REQUIRE(len <= n / P + 1);
    }
  }
  REQUIRE(reduce::chunk_count(0, reduce::kMinChunk) == 0);
  REQUIRE(reduce::chunk_count(300, 1) == reduce::kMaxChunks);
  REQUIRE(reduce::chunk_count(7, 1) == 7);
}

TEMPLATE_LIST_TEST_CASE("reduce: ordered_sum is the fixed-order sum, within the summation bound", "[reduce]",
                        test::ExecSpaces) {
  using Exec = TestType;
  for (index_t n : {index_t(0), index_t(1), index_t(700), index_t(100003)}) {
    CAPTURE(n);
    const auto x = terms(n);
    const double got = sum_on(Exec(), x);
    long double exact = 0.0L, abs_sum = 0.0L;
    for (double v : x) {
      exact += v;
      abs_sum += std::fabs(v);
    }
    // Any order of recursive summation: |error| <= (n - 1) u sum |x_i| (Higham, Accuracy and
    // Stability, 4.2), u = 2^-53.
    REQUIRE(std::fabs(double(got - exact)) <= double(n) * 0x1p-53 * double(abs_sum));
    if (!is_device_exec_v<Exec>) REQUIRE(got == reference_order(x));  // bitwise: the order is the definition
  }
  // The functor's side effect reaches every element once.
  using Mem = typename Exec::memory_space;
  const auto x = terms(5000);
  auto xv = test::to_device<Exec>(x, "test::reduce::x");
  View1<double, Mem> y("test::reduce::y", x.size());
  reduce::ordered_sum(Exec(), "test::reduce::sum", index_t(x.size()), Terms<Mem>{xv, y});
  auto yh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
  for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(yh(i) == 2.0 * x[i]);
}

TEMPLATE_LIST_TEST_CASE("reduce: ordered_team_sum adds the samples' team values in sample order", "[reduce]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const index_t m = 37;
  for (index_t B : {index_t(1), index_t(5), index_t(300)}) {
    CAPTURE(B);
    const auto x = terms(B * m);
    auto xv = test::to_device<Exec>(x, "test::reduce::x");
    const double got =
        reduce::ordered_team_sum(Exec(), "test::reduce::team_sum", B, SampleTerms<Exec>{xv, m});
    // Host reference in the host spaces' order: each sample's rows left to right, samples in chunks
    // of consecutive samples left to right.
    const index_t P = reduce::chunk_count(B, 1);
    double want = 0.0;
    long double exact = 0.0L, abs_sum = 0.0L;
    for (index_t c = 0; c < P; ++c) {
      double chunk = 0.0;
      for (index_t b = reduce::chunk_begin(B, P, c); b < reduce::chunk_begin(B, P, c + 1); ++b) {
        double s = 0.0;
        for (index_t k = 0; k < m; ++k) {
          s += x[b * m + k];
          exact += (long double)x[b * m + k] * (b + 1);
          abs_sum += std::fabs(x[b * m + k]) * (b + 1);
        }
        chunk += s * double(b + 1);
      }
      want += chunk;
    }
    REQUIRE(std::fabs(double(got - exact)) <= double(B * m + 1) * 0x1p-53 * double(abs_sum));
    if (!is_device_exec_v<Exec>) REQUIRE(got == want);
  }
}

// for_each_index (core/types.hpp): element i of a (rows, cols) array gets 1000 row + col through
// the body's own division, and the index width it ran with.
template <class Mem>
struct RowCol {
  View1<double, Mem> out;  // (rows cols)
  View1<int, Mem> width;   // (rows cols): sizeof the index type
  int cols;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I i) const {
    out(i) = 1000.0 * double(i / I(cols)) + double(i % I(cols));
    width(i) = int(sizeof(I));
  }
};

TEMPLATE_LIST_TEST_CASE("reduce: for_each_index runs an int index where the total fits, else index_t",
                        "[reduce][for_each_index]", test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const int rows = 37, cols = 29;
  const index_t total = index_t(rows) * cols;
  // int_limit: the default, exactly the total (still int), one below it and 0 (both index_t).
  for (const index_t limit : {index_t(INT_MAX), total, total - 1, index_t(0)}) {
    CAPTURE(limit);
    RowCol<Mem> f{View1<double, Mem>("out", total), View1<int, Mem>("width", total), cols};
    for_each_index(Exec(), "surro::test::for_each_index", total, f, limit);
    const auto out = test::to_host(f.out);
    const auto width = test::to_host(f.width);
    const int want = limit >= total ? int(sizeof(int)) : int(sizeof(index_t));
    for (index_t i = 0; i < total; ++i) {
      REQUIRE(out[i] == 1000.0 * double(i / cols) + double(i % cols));
      REQUIRE(width[i] == want);
    }
  }
}

#ifdef KOKKOS_ENABLE_OPENMP
// Kokkos::OpenMP(int) makes an instance with its own pool of that many threads (Kokkos >= 4).
TEST_CASE("reduce: the same bits on OpenMP instances of 1, 2, 3 and all threads", "[reduce]") {
  const auto x = terms(1000003);
  const double one = sum_on(Kokkos::OpenMP(1), x);
  REQUIRE(one == reference_order(x));
  for (int t : {2, 3, Kokkos::OpenMP().concurrency()}) {
    CAPTURE(t);
    REQUIRE(sum_on(Kokkos::OpenMP(t), x) == one);
  }
  REQUIRE(sum_on(Kokkos::OpenMP(), x) == one);
}
#endif
