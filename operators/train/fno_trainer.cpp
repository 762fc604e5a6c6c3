#include "operators/train/fno_trainer.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/loss.hpp"

namespace surro::op {

namespace {
ParamTable make_table(const FnoCfg& cfg) {
  ParamTable t;
  fno_register(t, cfg);
  return t;
}
}  // namespace

FnoTrainer::FnoTrainer(const ExecSpace& exec, const FnoCfg& model, const AdamConfig& optim, std::vector<int> grid,
                       std::uint64_t seed)
    : m_cfg(model),
      m_grid(std::move(grid)),
      m_table(make_table(model)),
      m_params(m_table, "surro::train::params"),
      m_grads(m_table, "surro::train::grads"),
      m_adam(m_table, optim) {
  fno_validate(m_cfg, m_grid);
  for (int e : m_grid) m_points *= e;
  // Any planned model can initialize: init only reads the table and the configs.
  model_for(exec, 1, false).init(exec, m_params.values().data(), seed);
}

Fno<ExecSpace, float>& FnoTrainer::model_for(const ExecSpace& exec, int batch, bool training) {
  auto& slot = m_models[{batch, training}];
  if (!slot) slot = std::make_unique<Fno<ExecSpace, float>>(exec, m_cfg, m_table, batch, m_grid, training);
  const std::size_t need = std::size_t(batch) * m_cfg.out_channels * m_points;
  if (m_pred.extent(0) < need) {
    m_pred = View1<float>("surro::train::pred", need);
    m_dpred = View1<float>("surro::train::dpred", need);
  }
  return *slot;
}

double FnoTrainer::train_step(const ExecSpace& exec, int batch, const float* x, const float* target, double lr) {
  ScopedRegion region("surro::train::step");
  Fno<ExecSpace, float>& model = model_for(exec, batch, true);
  const index_t per_sample = index_t(m_cfg.out_channels) * m_points;
  model.forward(exec, m_params.values().data(), x, m_pred.data());
  const double loss = rel_l2_loss(exec, Reduction::sum, batch, per_sample, m_pred.data(), target, m_dpred.data());
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  model.backward(exec, m_params.values().data(), m_dpred.data(), m_grads.values().data(), nullptr);
  m_grad_norm = grad_norm_clip(exec, m_grads.values(), m_adam.config().clip);
  m_adam.step(exec, m_params, m_grads, lr);
  return loss;
}

double FnoTrainer::evaluate(const ExecSpace& exec, int batch, const float* x, const float* target, float* pred) {
  ScopedRegion region("surro::train::evaluate");
  Fno<ExecSpace, float>& model = model_for(exec, batch, false);
  float* out = pred ? pred : m_pred.data();
  model.forward(exec, m_params.values().data(), x, out);
  return rel_l2_loss<ExecSpace, float>(exec, Reduction::sum, batch, index_t(m_cfg.out_channels) * m_points, out, target,
                                       nullptr);
}

Unroller<ExecSpace, float>& FnoTrainer::unroller_for(const ExecSpace& exec, int batch, int t_out) {
  auto& slot = m_unrollers[{batch, t_out}];
  if (!slot) slot = std::make_unique<Unroller<ExecSpace, float>>(exec, m_cfg, m_table, batch, m_grid, t_out);
  return *slot;
}

double FnoTrainer::train_step_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                                       const float* targets, double lr, UnrollMode mode) {
  ScopedRegion region("surro::train::step_unrolled");
  Unroller<ExecSpace, float>& unroller = unroller_for(exec, batch, t_out);
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  const double loss =
      unroller.loss_and_grad(exec, mode, m_params.values().data(), x, targets, m_grads.values().data());
  m_grad_norm = grad_norm_clip(exec, m_grads.values(), m_adam.config().clip);
  m_adam.step(exec, m_params, m_grads, lr);
  return loss;
}

double FnoTrainer::evaluate_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                                     const float* targets) {
  ScopedRegion region("surro::train::evaluate_unrolled");
  return unroller_for(exec, batch, t_out).evaluate(exec, m_params.values().data(), x, targets);
}

}  // namespace surro::op
