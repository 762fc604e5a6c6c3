#pragma once
// Supervised training of an FNO on batches (x, target): forward, relative-L2 loss (summed over
// the batch, as the FNO reference's LpLoss), backward, optional gradient clipping, Adam/AdamW.
// Everything runs on surro::ExecSpace in float. The parameter, gradient and moment memory is
// planned once (ParamTable + FlatParams); one model (activation buffers, FFT plans) is planned
// per distinct batch size seen, which is at most two per run (full batches and the last one);
// multi-step modes plan one Unroller per (batch, T_out) likewise.
#include "operators/models/fno.hpp"
#include "operators/optim/adam.hpp"
#include "operators/params.hpp"
#include "operators/train/unroll.hpp"

#include <map>
#include <memory>
#include <vector>

namespace surro::op {

class FnoTrainer {
 public:
  FnoTrainer(const ExecSpace& exec, const FnoCfg& model, const AdamConfig& optim, std::vector<int> grid,
             std::uint64_t seed);

  // One optimization step at learning rate lr. x (B, Cin, N...), target (B, Cout, N...), both on
  // the device. Returns the batch's summed relative L2 loss (before the update).
  double train_step(const ExecSpace& exec, int batch, const float* x, const float* target, double lr);
  // Summed relative L2 loss without an update; pred (B, Cout, N...) receives the prediction when
  // non-null.
  double evaluate(const ExecSpace& exec, int batch, const float* x, const float* target, float* pred);

  // Multi-step training (operators/train/unroll.hpp): x (B, T_in * C, N...), targets
  // (B, T_out * C, N...) with C = the model's out_channels. One optimization step on the mode's
  // loss; returns that loss (unrolled: summed over the batch and the T_out frames; pushforward: the
  // last frame's, summed over the batch).
  double train_step_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x, const float* targets,
                             double lr, UnrollMode mode);
  // The unrolled loss over the T_out frames, without gradient or update.
  double evaluate_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x, const float* targets);

  const ParamTable& table() const { return m_table; }
  const FlatParams<float>& params() const { return m_params; }
  const FlatParams<float>& grads() const { return m_grads; }
  Adam<ExecSpace>& optimizer() { return m_adam; }
  double last_grad_norm() const { return m_grad_norm; }
  const FnoCfg& model_cfg() const { return m_cfg; }

 private:
  Fno<ExecSpace, float>& model_for(const ExecSpace& exec, int batch, bool training);
  FnoCfg m_cfg;
  std::vector<int> m_grid;
  index_t m_points = 1;  // Nx * Ny * ...
  ParamTable m_table;
  FlatParams<float> m_params, m_grads;
  Adam<ExecSpace> m_adam;
  std::map<std::pair<int, bool>, std::unique_ptr<Fno<ExecSpace, float>>> m_models;
  Unroller<ExecSpace, float>& unroller_for(const ExecSpace& exec, int batch, int t_out);
  std::map<std::pair<int, int>, std::unique_ptr<Unroller<ExecSpace, float>>> m_unrollers;  // (batch, t_out)
  View1<float> m_pred, m_dpred;  // (B_max, Cout, N...), grown on first use of a larger batch
  double m_grad_norm = 0.0;
};

}  // namespace surro::op
