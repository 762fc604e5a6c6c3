#pragma once
// What rollout and evaluation need from a trained model: map a window of past frames to the next
// frame, in physical units, on surro::ExecSpace, in float. Normalization, grid channels and the
// model's own buffers are the implementation's business.
//
// Frames are channel-first: one frame is (C, N...); a window of T_in frames is (T_in * C, N...)
// with frame-major channels (oldest first): channel t * C + c is field c at window step t.
#include "core/types.hpp"

#include <vector>

namespace surro::op {

class Surrogate {
 public:
  virtual ~Surrogate() = default;
  virtual int in_frames() const = 0;            // T_in
  virtual int channels() const = 0;             // C fields per frame
  virtual std::vector<int> grid() const = 0;    // (Nx[, Ny[, Nz]])
  virtual int max_batch() const = 0;            // predict() accepts batch <= this
  // x: (B, T_in * C, N...) -> y: (B, C, N...), the frame after the window.
  virtual void predict(const ExecSpace& exec, int batch, const float* x, float* y) = 0;
};

}  // namespace surro::op
