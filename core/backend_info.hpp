#pragma once
// What this build runs on: Kokkos version and spaces, the device, the FFT and GEMM libraries.
// Requires Kokkos to be initialized.
#include "core/config.hpp"

namespace surro {

config::json backend_info();

}  // namespace surro
