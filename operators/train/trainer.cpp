#include "operators/train/trainer.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "core/rng.hpp"
#include "operators/loss.hpp"

namespace surro::op {

namespace {
ParamTable make_table(const Architecture& arch) {
  ParamTable t;
  arch.register_params(t);
  return t;
}
}  // namespace

Trainer::Trainer(const ExecSpace& exec, std::shared_ptr<const Architecture> arch, const AdamConfig& optim,
                 std::vector<int> grid, std::uint64_t seed, std::shared_ptr<const ModelNormalizers> norms)
    : m_arch(std::move(arch)),
      m_grid(std::move(grid)),
      m_table(make_table(*m_arch)),
      m_params(m_table, "surro::train::params"),
      m_grads(m_table, "surro::train::grads"),
      m_adam(m_table, optim),
      m_norms(std::move(norms)),
      m_seed(seed) {
  m_arch->validate(m_grid);
  for (int e : m_grid) m_points *= e;
  m_arch->init(exec, m_table, m_grid, m_params.values().data(), seed);
}

Model<ExecSpace, float>& Trainer::model_for(const ExecSpace& exec, int batch, bool training) {
  auto& slot = m_models[{batch, training}];
  if (!slot)
    slot = normalized_factory(model_factory(*m_arch, m_table, batch, m_grid), m_norms, batch,
                              m_arch->in_channels(), m_arch->out_channels(), m_points)(exec, training);
  const std::size_t need = std::size_t(batch) * m_arch->out_channels() * m_points;
  if (m_pred.extent(0) < need) {
    m_pred = View1<float>("surro::train::pred", need);
    m_dpred = View1<float>("surro::train::dpred", need);
  }
  return *slot;
}

namespace trainer_impl {

// out = x + stddev * N(0, 1), draw i from Philox(seed) stream `stream`.
void add_noise(const ExecSpace& exec, index_t n, std::uint64_t seed, std::uint64_t stream, float stddev,
               const float* x, float* out) {
  const rng::Philox gen{seed};
  Kokkos::parallel_for(
      "surro::train::input_noise", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) {
        out[i] = x[i] + stddev * gen.normal<float>(stream, static_cast<std::uint64_t>(i));
      });
}

}  // namespace trainer_impl

const float* Trainer::noisy_input(const ExecSpace& exec, int batch, const float* x) {
  if (m_noise <= 0.0) return x;
  const std::size_t n = std::size_t(batch) * m_arch->in_channels() * m_points;
  if (m_noisy.extent(0) < n) m_noisy = View1<float>("surro::train::noisy_input", n);
  // Streams below 2^32 belong to parameter initialization (one per tensor).
  const std::uint64_t stream = (std::uint64_t(1) << 32) + static_cast<std::uint64_t>(m_adam.steps());
  trainer_impl::add_noise(exec, index_t(n), m_seed, stream, static_cast<float>(m_noise), x, m_noisy.data());
  return m_noisy.data();
}

double Trainer::train_step(const ExecSpace& exec, int batch, const float* x, const float* target, double lr) {
  ScopedRegion region("surro::train::step");
  x = noisy_input(exec, batch, x);
  Model<ExecSpace, float>& model = model_for(exec, batch, true);
  const index_t per_sample = index_t(m_arch->out_channels()) * m_points;
  model.forward(exec, m_params.values().data(), x, m_pred.data());
  const double loss =
      rel_l2_loss(exec, Reduction::sum, batch, per_sample, m_pred.data(), target, m_dpred.data());
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  model.backward(exec, m_params.values().data(), m_dpred.data(), m_grads.values().data(), nullptr);
  m_grad_norm = grad_norm_clip(exec, m_grads.values(), m_adam.config().clip);
  m_adam.step(exec, m_params, m_grads, lr);
  return loss;
}

double Trainer::evaluate(const ExecSpace& exec, int batch, const float* x, const float* target, float* pred) {
  ScopedRegion region("surro::train::evaluate");
  Model<ExecSpace, float>& model = model_for(exec, batch, false);
  float* out = pred ? pred : m_pred.data();
  model.forward(exec, m_params.values().data(), x, out);
  return rel_l2_loss<ExecSpace, float>(exec, Reduction::sum, batch,
                                       index_t(m_arch->out_channels()) * m_points, out, target, nullptr);
}

Unroller<ExecSpace, float>& Trainer::unroller_for(const ExecSpace& exec, int batch, int t_out) {
  auto& slot = m_unrollers[{batch, t_out}];
  if (!slot)
    slot = std::make_unique<Unroller<ExecSpace, float>>(
        exec,
        normalized_factory(model_factory(*m_arch, m_table, batch, m_grid), m_norms, batch,
                           m_arch->in_channels(), m_arch->out_channels(), m_points),
        m_arch->in_channels(), m_arch->out_channels(), batch, m_grid, t_out);
  return *slot;
}

double Trainer::train_step_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                                    const float* targets, double lr, UnrollMode mode) {
  ScopedRegion region("surro::train::step_unrolled");
  x = noisy_input(exec, batch, x);
  Unroller<ExecSpace, float>& unroller = unroller_for(exec, batch, t_out);
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  const double loss =
      unroller.loss_and_grad(exec, mode, m_params.values().data(), x, targets, m_grads.values().data());
  m_grad_norm = grad_norm_clip(exec, m_grads.values(), m_adam.config().clip);
  m_adam.step(exec, m_params, m_grads, lr);
  return loss;
}

double Trainer::evaluate_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                                  const float* targets) {
  ScopedRegion region("surro::train::evaluate_unrolled");
  return unroller_for(exec, batch, t_out).evaluate(exec, m_params.values().data(), x, targets);
}

}  // namespace surro::op
