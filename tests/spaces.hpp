#pragma once
// Execution spaces (and scalar types) the tests sweep. Every numeric test runs on the host space
// and, in a device build, on the device too: comparing both against the same naive reference is
// the host/device agreement check.
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace surro::test {

template <class Exec, class Scalar>
struct Case {
  using exec = Exec;
  using scalar = Scalar;
};

#ifdef KOKKOS_ENABLE_CUDA
using ExecSpaces = std::tuple<HostExec, Kokkos::Cuda>;
using RealCases = std::tuple<Case<HostExec, float>, Case<HostExec, double>, Case<Kokkos::Cuda, float>,
                             Case<Kokkos::Cuda, double>>;
using GemmCases =
    std::tuple<Case<HostExec, float>, Case<HostExec, double>, Case<HostExec, Complex<float>>,
               Case<HostExec, Complex<double>>, Case<Kokkos::Cuda, float>, Case<Kokkos::Cuda, double>,
               Case<Kokkos::Cuda, Complex<float>>, Case<Kokkos::Cuda, Complex<double>>>;
#else
using ExecSpaces = std::tuple<HostExec>;
using RealCases = std::tuple<Case<HostExec, float>, Case<HostExec, double>>;
using GemmCases = std::tuple<Case<HostExec, float>, Case<HostExec, double>, Case<HostExec, Complex<float>>,
                             Case<HostExec, Complex<double>>>;
#endif

// Copies a host vector into a new rank-1 View in Exec's memory space.
template <class Exec, class T>
View1<T, typename Exec::memory_space> to_device(const std::vector<T>& host, const std::string& label) {
  View1<T, typename Exec::memory_space> v(label, host.size());
  auto m = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < host.size(); ++i) m(i) = host[i];
  Kokkos::deep_copy(v, m);
  return v;
}

template <class V>
std::vector<typename V::non_const_value_type> to_host(const V& v) {
  auto m = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<typename V::non_const_value_type>(m.data(), m.data() + m.span());
}

template <class T>
constexpr double epsilon() {
  return static_cast<double>(std::numeric_limits<T>::epsilon());
}

// n uniform draws in [lo, hi) from Philox stream `stream` of `seed`.
inline std::vector<double> uniform_draws(std::uint64_t seed, std::uint64_t stream, std::size_t n, double lo,
                                         double hi) {
  const rng::Philox gen{seed};
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * gen.uniform<double>(stream, i);
  return v;
}

// Runs f and requires a surro::Error of `kind` whose message contains `needle`.
template <class F>
void require_error(F&& f, ErrorKind kind, const std::string& needle) {
  try {
    f();
    FAIL("expected surro::Error containing \"" << needle << "\"");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.kind() == kind);
    CHECK_THAT(e.what(), Catch::Contains(needle));
  }
}

}  // namespace surro::test
