#pragma once
// Multi-step (autoregressive) training losses of any model (operators/model.hpp), for one planned
// (batch, grid, T_out).
//
// Frames: a window x (B, T_in * C, N...) holds T_in frames of C channels, oldest first; targets
// (B, T_out * C, N...) hold the T_out frames that follow it, frame-major. Step t predicts
// y_t (B, C, N...) from window W_t; W_0 = x and W_{t+1} = W_t without its oldest frame, with y_t
// appended (the operators/rollout.hpp shift).
//
//   unrolled     (FNO-2D benchmark, fourier_2d_time.py): loss = sum_t rel_l2_sum(y_t, target_t),
//                the gradient flowing through every prediction fed back into later windows.
//                Backward runs the steps in exact reverse: step t's window gradient splits into
//                the slots that hold earlier predictions y_k (added to dL/dy_k, complete before
//                step k is reached) and the ground-truth slots of x (dropped). One training
//                model per step, each keeping its own activations.
//   pushforward  (Brandstetter et al., ICLR 2022): T_out - 1 steps without gradient, then one
//                step with gradient; loss = rel_l2_sum(y_{T_out-1}, target_{T_out-1}).
//
// Every buffer and model is planned on first use of a mode and reused: no allocation inside a
// step. Memory: unrolled keeps T_out models' activations and T_out windows, so it grows linearly
// in T_out; pushforward and evaluate keep one of each. Loss values are sums over the batch (and over frames
// for unrolled), as rel_l2_loss.
#include "operators/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace surro::op {

enum class UnrollMode { unrolled, pushforward };
UnrollMode parse_unroll_mode(const std::string& name);  // "unrolled" | "pushforward"

template <class Exec, class Real>
class Unroller {
 public:
  // factory: models of this (batch, grid) with in_channels = T_in * C and out_channels = C (so
  // T_in = in / out). t_out >= 1.
  Unroller(const Exec& exec, ModelFactory<Exec, Real> factory, int in_channels, int out_channels, int batch,
           std::vector<int> grid, int t_out);
  ~Unroller();
  Unroller(const Unroller&) = delete;
  Unroller& operator=(const Unroller&) = delete;

  // The mode's loss; accumulates dLoss/dparams into grads (table.size()).
  double loss_and_grad(const Exec& exec, UnrollMode mode, const Real* params, const Real* x,
                       const Real* targets, Real* grads);
  // The unrolled loss sum_t rel_l2_sum(y_t, target_t) without gradient (inference models);
  // pred (B, T_out * C, N...) receives the predictions when non-null.
  double evaluate(const Exec& exec, const Real* params, const Real* x, const Real* targets,
                  Real* pred = nullptr);

  int batch() const { return m_batch; }
  int t_out() const { return m_t_out; }

 private:
  void plan(const Exec& exec, int models, bool training);
  double frame_loss(const Exec& exec, int t, const Real* pred, const Real* targets, Real* dpred);
  ModelFactory<Exec, Real> m_factory;
  int m_batch, m_t_out, m_t_in, m_channels;
  std::vector<int> m_grid;
  index_t m_frame;                                           // B * C * N: one predicted frame of the batch
  index_t m_window;                                          // B * T_in * C * N
  std::vector<std::unique_ptr<Model<Exec, Real>>> m_models;  // training: one per step (unrolled)
  std::unique_ptr<Model<Exec, Real>> m_infer;
  View1<Real, typename Exec::memory_space> m_windows, m_pred, m_dpred, m_target, m_dwindow;
};

}  // namespace surro::op
