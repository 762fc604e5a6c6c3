#pragma once
// The GPU's free memory, for plans that trade memory for time (IFactFormer's keep_u). No JSON or
// CUDA headers here: kernel translation units include it.
#include <cstddef>

namespace surro {

// Free bytes on the current CUDA device (cudaMemGetInfo); 0 (unknown) in a build without CUDA or
// when the query fails. Requires Kokkos to be initialized.
std::size_t gpu_free_bytes();

}  // namespace surro
