#pragma once
// Supervised training of any model (operators/model.hpp: FNO, IFactFormer, ...) on batches (x, target):
// forward, relative-L2 loss (summed over the batch, as the FNO reference's LpLoss), backward, optional
// gradient clipping, Adam/AdamW. Everything runs on surro::ExecSpace in float. The parameter, gradient and
// moment memory is planned once (ParamTable + FlatParams); one model (activation buffers, FFT plans) is
// planned per distinct batch size seen, which is at most two per run (full batches and the last one);
// multi-step modes plan one Unroller per (batch, T_out) likewise.
#include "operators/model.hpp"
#include "operators/optim/adam.hpp"
#include "operators/params.hpp"
#include "operators/train/normalized_model.hpp"
#include "operators/train/unroll.hpp"

#include <map>
#include <memory>
#include <vector>

namespace surro::op {

class Trainer {
 public:
  // arch: channel counts set; validated against grid here. Parameters are initialized from seed.
  // norms (may be null): the model is trained through them (operators/train/normalized_model.hpp);
  // x, targets and losses stay in physical units.
  Trainer(const ExecSpace& exec, std::shared_ptr<const Architecture> arch, const AdamConfig& optim,
          std::vector<int> grid, std::uint64_t seed, std::shared_ptr<const ModelNormalizers> norms = nullptr);

  // Gaussian noise of this standard deviation (data units) is added to every training input value
  // (not to validation inputs). Draw i of step s is Philox(seed) stream (2^32 + s), index i, so a
  // resumed run draws the same noise. 0 (the default) adds none.
  void set_input_noise(double stddev) { m_noise = stddev; }

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
  double train_step_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                             const float* targets, double lr, UnrollMode mode);
  // The unrolled loss over the T_out frames, without gradient or update.
  double evaluate_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x, const float* targets);

  const ParamTable& table() const { return m_table; }
  const FlatParams<float>& params() const { return m_params; }
  const FlatParams<float>& grads() const { return m_grads; }
  Adam<ExecSpace>& optimizer() { return m_adam; }
  double last_grad_norm() const { return m_grad_norm; }
  const Architecture& architecture() const { return *m_arch; }

 private:
  Model<ExecSpace, float>& model_for(const ExecSpace& exec, int batch, bool training);
  std::shared_ptr<const Architecture> m_arch;
  std::vector<int> m_grid;
  index_t m_points = 1;  // Nx * Ny * ...
  ParamTable m_table;
  FlatParams<float> m_params, m_grads;
  Adam<ExecSpace> m_adam;
  std::map<std::pair<int, bool>, std::unique_ptr<Model<ExecSpace, float>>> m_models;
  Unroller<ExecSpace, float>& unroller_for(const ExecSpace& exec, int batch, int t_out);
  std::map<std::pair<int, int>, std::unique_ptr<Unroller<ExecSpace, float>>> m_unrollers;  // (batch, t_out)
  View1<float> m_pred, m_dpred;  // (B_max, Cout, N...), grown on first use of a larger batch
  double m_grad_norm = 0.0;
  std::shared_ptr<const ModelNormalizers> m_norms;
  std::uint64_t m_seed;
  double m_noise = 0.0;
  View1<float> m_noisy;  // (B_max, Cin, N...): the noisy input, grown on first use of a larger batch
  const float* noisy_input(const ExecSpace& exec, int batch, const float* x);
};

}  // namespace surro::op
