#include "operators/train/normalized_model.hpp"

namespace surro::op::normalized_impl {

// Element (r, i) of y, i < out_row, pairs with element (r, in_row - out_row + i) of x: the newest
// frame of the window row.
void add_last_frame(const ExecSpace& exec, index_t rows, index_t in_row, index_t out_row, const float* x,
                    float* y) {
  const index_t skip = in_row - out_row;
  Kokkos::parallel_for(
      "surro::normalized_model::add_last_frame", Kokkos::RangePolicy<ExecSpace>(exec, 0, rows * out_row),
      KOKKOS_LAMBDA(const index_t k) {
        const index_t r = k / out_row, i = k - r * out_row;
        y[k] += x[r * in_row + skip + i];
      });
}

void add_into_last_frame(const ExecSpace& exec, index_t rows, index_t in_row, index_t out_row, const float* dy,
                         float* dx) {
  const index_t skip = in_row - out_row;
  Kokkos::parallel_for(
      "surro::normalized_model::add_into_last_frame", Kokkos::RangePolicy<ExecSpace>(exec, 0, rows * out_row),
      KOKKOS_LAMBDA(const index_t k) {
        const index_t r = k / out_row, i = k - r * out_row;
        dx[r * in_row + skip + i] += dy[k];
      });
}

}  // namespace surro::op::normalized_impl
