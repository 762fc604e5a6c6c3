#pragma once
// Supervised training of any model (operators/model.hpp: FNO, IFactFormer, the mesh transformer,
// MeshGraphNet) on batches (x, target) in the row layout of operators/batch.hpp: forward, the loss
// (relative L2 summed over the batch, as the FNO reference's LpLoss, or MSE, optionally of the
// normalized target as MeshGraphNets; masked to the batch's predicted nodes on meshes), backward,
// optional gradient clipping, Adam/AdamW. Everything runs on surro::ExecSpace in float. The
// parameter, gradient and moment memory is planned once (ParamTable + FlatParams). Models: on
// meshes one training and one inference instance planned for the GraphBatchCapacity given at
// construction serve every batch; on grids one per distinct batch size seen (at most two per run:
// full batches and the last one); multi-step modes (grids) plan one Unroller per (batch, T_out).
//
// Loss values are sums over the batch's samples (mse: the batch mean times the sample count), so
// dividing an epoch's sum by its sample count gives the mean per sample for every loss.
#include "operators/loss.hpp"
#include "operators/model.hpp"
#include "operators/optim/adam.hpp"
#include "operators/params.hpp"
#include "operators/train/normalized_model.hpp"
#include "operators/train/unroll.hpp"

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace surro::op {

struct TrainOptions {
  LossKind loss = LossKind::rel_l2;
  // mse on the normalized target (weights 1 / scale_y^2): needs a target normalizer.
  bool normalized_loss = false;
  GraphBatchCapacity capacity;  // meshes: what every batch fits in (the models' plan)
};

class Trainer {
 public:
  // arch: bound to the data (Architecture::bind). Parameters are initialized from seed.
  // norms (may be null): the model is trained through them (operators/train/normalized_model.hpp);
  // x, targets and losses stay in physical units.
  Trainer(const ExecSpace& exec, std::shared_ptr<const Architecture> arch, const AdamConfig& optim,
          std::uint64_t seed, std::shared_ptr<const ModelNormalizers> norms = nullptr,
          const TrainOptions& options = {});
  // Grid form of the above with the default options: binds nothing, checks arch is bound to `grid`.
  Trainer(const ExecSpace& exec, std::shared_ptr<const Architecture> arch, const AdamConfig& optim,
          const std::vector<int>& grid, std::uint64_t seed,
          std::shared_ptr<const ModelNormalizers> norms = nullptr);

  // Gaussian noise of this standard deviation (data units) is added to training input values (not
  // to validation inputs): every value on grids, the NORMAL nodes' values on meshes (MeshGraphNets;
  // boundary values are prescribed). Draw i of step s is Philox(seed) stream (2^32 + s), index i,
  // so a resumed run draws the same noise. 0 (the default) adds none.
  void set_input_noise(double stddev) { m_noise = stddev; }

  // train.skip_nonfinite: when on, a step whose loss or gradient norm is not finite updates no
  // parameter and no moment (never an update with a non-finite gradient); the optimizer's step
  // count still advances (it is the run's position, which a resume continues from), and
  // last_step_skipped() reports it. Off (the default): every step updates.
  void set_skip_nonfinite(bool on) { m_skip_nonfinite = on; }

  // Data-parallel training (app/train.cpp, core/comm.hpp). The reducer is called by every training
  // step between backward and the update (clipping, the skip decision, Adam) with this process's
  // gradient grads (n) on the device and its share's loss; it leaves the global batch's gradient in
  // grads and returns the global loss, which train_step then returns. None (the default): one process.
  using Reducer = std::function<double(const ExecSpace& exec, float* grads, std::size_t n, double loss)>;
  void set_reducer(Reducer reducer) { m_reducer = std::move(reducer); }
  // Input noise is keyed by the global batch's value index: this process's share starts at value
  // `first` of the global batch's x (rows before the share times Cin * P). 0 for one process.
  void set_input_offset(std::uint64_t first) { m_input_offset = first; }
  // A step for a process whose share of the global batch is empty (a last batch smaller than the
  // rank count): a zero gradient and loss enter the reduction, then the same update as every rank's.
  double idle_step(const ExecSpace& exec, double lr);
  bool last_step_skipped() const { return m_skipped; }

  // One optimization step at learning rate lr. x (rows, Cin, P), target (rows, Cout, P), both on
  // the device. Returns the batch's loss (before the update).
  double train_step(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x, const float* target,
                    double lr);
  // The loss without an update; pred (rows, Cout, P) receives the prediction when non-null.
  double evaluate(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x, const float* target,
                  float* pred);
  // Grid forms: a batch of `batch` samples.
  double train_step(const ExecSpace& exec, int batch, const float* x, const float* target, double lr) {
    return train_step(exec, grid_batch<ExecSpace>(batch), x, target, lr);
  }
  double evaluate(const ExecSpace& exec, int batch, const float* x, const float* target, float* pred) {
    return evaluate(exec, grid_batch<ExecSpace>(batch), x, target, pred);
  }

  // Multi-step training on grids (operators/train/unroll.hpp): x (B, T_in * C, N...), targets
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
  Model<ExecSpace, float>& model_for(const ExecSpace& exec, const Batch<ExecSpace>& batch, bool training);
  double loss(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* pred, const float* target,
              float* dpred);
  std::shared_ptr<const Architecture> m_arch;
  TrainOptions m_options;
  index_t m_points = 1;  // P: points per row
  ParamTable m_table;
  FlatParams<float> m_params, m_grads;
  Adam<ExecSpace> m_adam;
  std::map<std::pair<int, bool>, std::unique_ptr<Model<ExecSpace, float>>> m_models;  // (B or 0, training)
  RowLoss<ExecSpace> m_row_loss;
  View1<float> m_loss_weights;  // (Cout * P) 1 / scale_y^2 for the normalized loss; empty otherwise
  Unroller<ExecSpace, float>& unroller_for(const ExecSpace& exec, int batch, int t_out);
  std::map<std::pair<int, int>, std::unique_ptr<Unroller<ExecSpace, float>>> m_unrollers;  // (batch, t_out)
  View1<float> m_pred, m_dpred;  // (rows, Cout, P), grown on first use of a larger batch
  double m_grad_norm = 0.0;
  bool m_skip_nonfinite = false, m_skipped = false;
  // reduce over processes (set_reducer), clip, then Adam (or skip); returns the (global) loss
  double update(const ExecSpace& exec, double loss, double lr);
  std::shared_ptr<const ModelNormalizers> m_norms;
  std::uint64_t m_seed;
  double m_noise = 0.0;
  Reducer m_reducer;
  std::uint64_t m_input_offset = 0;
  View1<float> m_noisy;  // (rows, Cin, P): the noisy input, grown on first use of a larger batch
  const float* noisy_input(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x);
};

}  // namespace surro::op
