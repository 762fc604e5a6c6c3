#pragma once
// Kokkos aliases used across surro. Dimension letters (B, C, Nx, ...) are defined in docs/STYLE.md.
//
// Everything numeric runs on ExecSpace (the default execution space: CUDA on a GPU build, Serial or
// OpenMP otherwise); HostExec is for I/O staging and for the host reference paths in tests.
#include <Kokkos_Core.hpp>

#include <climits>
#include <cstdint>
#include <string>

namespace surro {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using HostExec = Kokkos::DefaultHostExecutionSpace;
using MemSpace = ExecSpace::memory_space;
using HostMem = Kokkos::HostSpace;

using index_t = std::int64_t;

template <class Real>
using Complex = Kokkos::complex<Real>;

// Views are LayoutRight throughout: the last index is contiguous, so FFT axes and GEMM rows are
// innermost and no transform or product needs a transpose.
template <class T, class Mem = MemSpace>
using View1 = Kokkos::View<T*, Kokkos::LayoutRight, Mem>;
template <class T, class Mem = MemSpace>
using View2 = Kokkos::View<T**, Kokkos::LayoutRight, Mem>;
template <class T, class Mem = MemSpace>
using View3 = Kokkos::View<T***, Kokkos::LayoutRight, Mem>;
template <class T, class Mem = MemSpace>
using View4 = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;
template <class T, class Mem = MemSpace>
using View5 = Kokkos::View<T*****, Kokkos::LayoutRight, Mem>;

// Multidimensional ranges iterating with the last index fastest, matching LayoutRight. (The
// default pattern follows the space's default layout: on CUDA that is LayoutLeft, which would
// make every kernel over our Views uncoalesced.)
template <class Exec>
using MDRange2 = Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2, Kokkos::Iterate::Right, Kokkos::Iterate::Right>>;
template <class Exec>
using MDRange3 = Kokkos::MDRangePolicy<Exec, Kokkos::Rank<3, Kokkos::Iterate::Right, Kokkos::Iterate::Right>>;

// True when Exec is a device (non-host) execution space.
template <class Exec>
inline constexpr bool is_device_exec_v = !Kokkos::SpaceAccessibility<Exec, Kokkos::HostSpace>::accessible;

// A scratch View on `exec`, left uninitialized: the caller writes every element before reading.
template <class ViewT, class Exec, class... Extents>
ViewT make_scratch(const Exec& exec, const std::string& label, Extents... extents) {
  return ViewT(Kokkos::view_alloc(exec, Kokkos::WithoutInitializing, label), extents...);
}

// parallel_for over [0, total) for a body that divides its index (to find a row, a column, a
// slab): f(i) is called with an int i where total fits one, else with an index_t i, so that f's
// divisions are 32-bit where they can be. A 64-bit division per element costs a GPU many
// instructions: it held such passes at a quarter of the copy bandwidth. f is a functor whose
// operator() is a template over the index type. int_limit (default INT_MAX) is the largest total
// run with an int index; a test lowers it to run the index_t branch on small arrays.
template <class Exec, class F>
void for_each_index(const Exec& exec, const std::string& label, index_t total, const F& f,
                    index_t int_limit = INT_MAX) {
  if (total <= int_limit && total <= index_t(INT_MAX))
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<Exec, Kokkos::IndexType<int>>(exec, 0, int(total)),
        KOKKOS_LAMBDA(const int i) { f(i); });
  else
    Kokkos::parallel_for(
        label, Kokkos::RangePolicy<Exec>(exec, 0, total), KOKKOS_LAMBDA(const index_t i) { f(i); });
}

// A two- or three-dimensional loop f(i0, i1[, i2]) over (n0, n1[, n2]), the last index fastest in
// memory. Host spaces run the MDRange above (no division per element). Devices run one flat index
// decoded in 32 bits where it fits (for_each_index): Kokkos' CUDA MDRange puts the first index on
// threadIdx.x whatever the iteration pattern, with default tiles of 2 x 16 (2 x 2 x 16 in 3D), so a
// warp's stores touched 64-byte pieces of two rows and its blocks had 32 threads.
template <class F>
struct Decode2 {
  F f;
  index_t n1;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I e) const {
    const I i0 = e / I(n1);
    f(index_t(i0), index_t(e - i0 * I(n1)));
  }
};
template <class F>
struct Decode3 {
  F f;
  index_t n1, n2;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I e) const {
    const I q = e / I(n2), i0 = q / I(n1);
    f(index_t(i0), index_t(q - i0 * I(n1)), index_t(e - q * I(n2)));
  }
};

template <class Exec, class F>
void for_each_2d(const Exec& exec, const std::string& label, index_t n0, index_t n1, const F& f) {
  if constexpr (is_device_exec_v<Exec>)
    for_each_index(exec, label, n0 * n1, Decode2<F>{f, n1});
  else
    Kokkos::parallel_for(label, MDRange2<Exec>(exec, {0, 0}, {n0, n1}), f);
}

template <class Exec, class F>
void for_each_3d(const Exec& exec, const std::string& label, index_t n0, index_t n1, index_t n2, const F& f) {
  if constexpr (is_device_exec_v<Exec>)
    for_each_index(exec, label, n0 * n1 * n2, Decode3<F>{f, n1, n2});
  else
    Kokkos::parallel_for(label, MDRange3<Exec>(exec, {0, 0, 0}, {n0, n1, n2}), f);
}

}  // namespace surro
