#pragma once
// Explicit instantiation over Real = float, double and Exec = surro::HostExec, surro::ExecSpace.
// When the two spaces coincide (every host-only build) each pair is instantiated once: a second
// explicit instantiation of the same specialization would be ill-formed.
//
//   #define SURRO_X(Exec, Real) template void f<Exec, Real>(const Exec&, const Real*);
//   SURRO_OP_INSTANTIATE(SURRO_X)
#include "core/types.hpp"

#include <type_traits>

#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP) || defined(KOKKOS_ENABLE_SYCL)
#define SURRO_OP_DEVICE_BUILD 1
#else
#define SURRO_OP_DEVICE_BUILD 0
#endif

static_assert(std::is_same_v<surro::ExecSpace, surro::HostExec> == !SURRO_OP_DEVICE_BUILD,
              "SURRO_OP_INSTANTIATE: the device-build test disagrees with ExecSpace/HostExec");

#define SURRO_OP_INSTANTIATE_REALS(M, EXEC) M(EXEC, float) M(EXEC, double)
#if SURRO_OP_DEVICE_BUILD
#define SURRO_OP_INSTANTIATE(M) \
  SURRO_OP_INSTANTIATE_REALS(M, ::surro::HostExec) SURRO_OP_INSTANTIATE_REALS(M, ::surro::ExecSpace)
#else
#define SURRO_OP_INSTANTIATE(M) SURRO_OP_INSTANTIATE_REALS(M, ::surro::HostExec)
#endif
