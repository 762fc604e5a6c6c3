#pragma once
// What rollout and evaluation need from a trained model: map a window of past frames to the next
// frame, in physical units, on surro::ExecSpace, in float. Normalization, grid channels and the
// model's own buffers are the implementation's business.
//
// Frames use the row layout of operators/batch.hpp: one frame is (rows, C, P) and a window of T_in
// frames is (rows, T_in * C, P), frame-major (oldest first): in a row, channel t * C + c is field c
// at window step t. Grids: rows = samples, P = the grid's points; meshes: rows = the batch's
// nodes, P = 1.
#include "core/error.hpp"
#include "core/types.hpp"
#include "operators/batch.hpp"

#include <vector>

namespace surro::op {

class Surrogate {
 public:
  virtual ~Surrogate() = default;
  virtual int in_frames() const = 0;            // T_in
  virtual int channels() const = 0;             // C fields per frame
  virtual std::vector<int> grid() const = 0;    // grids: (Nx[, Ny[, Nz]]); meshes: empty
  virtual int max_batch() const = 0;            // samples (grids) or meshes predict() accepts
  virtual index_t max_rows() const { return max_batch(); }  // rows predict() accepts
  // P: points per row (1 on meshes).
  index_t points() const {
    index_t p = 1;
    for (int n : grid()) p *= n;
    return p;
  }
  // Grids: x (B, T_in * C, N...) -> y (B, C, N...), the frame after the window.
  virtual void predict(const ExecSpace& exec, int batch, const float* x, float* y) = 0;
  // Any batch: x (rows, T_in * C, P) -> y (rows, C, P). Grid surrogates need only the form above.
  virtual void predict(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x, float* y) {
    SURRO_REQUIRE(!batch.on_mesh(), "surrogate: a mesh batch for a grid model");
    predict(exec, batch.samples, x, y);
  }
};

}  // namespace surro::op
