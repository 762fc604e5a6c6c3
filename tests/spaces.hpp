#pragma once
// Execution spaces (and scalar types) the tests sweep. Every numeric test runs on the host space
// and, in a device build, on the device too: comparing both against the same naive reference is
// the host/device agreement check.
#include "core/types.hpp"

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
using GemmCases = std::tuple<Case<HostExec, float>, Case<HostExec, double>, Case<HostExec, Complex<float>>,
                             Case<HostExec, Complex<double>>, Case<Kokkos::Cuda, float>,
                             Case<Kokkos::Cuda, double>, Case<Kokkos::Cuda, Complex<float>>,
                             Case<Kokkos::Cuda, Complex<double>>>;
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

}  // namespace surro::test
