#include "operators/train/trainer.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "core/rng.hpp"
#include "mesh/mesh.hpp"
#include "operators/loss.hpp"

#include <cmath>

namespace surro::op {

namespace {
ParamTable make_table(const Architecture& arch) {
  SURRO_REQUIRE(arch.bound(), "trainer: the " << arch.type() << " architecture is not bound to the data");
  ParamTable t;
  arch.register_params(t);
  return t;
}
}  // namespace

namespace trainer_impl {

// out = x + stddev * N(0, 1), value i drawing index first + i of Philox(seed) stream `stream` (first:
// the value's place in the global batch, so the noise does not depend on the rank count); with node types
// (meshes, rows of `row` values) only NORMAL nodes' values get noise.
void add_noise(const ExecSpace& exec, index_t n, index_t row, const int* node_type, std::uint64_t seed,
               std::uint64_t stream, std::uint64_t first, float stddev, const float* x, float* out) {
  const rng::Philox gen{seed};
  Kokkos::parallel_for(
      "surro::train::input_noise", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) {
        const bool noisy = !node_type || node_type[i / row] == mesh::normal;
        out[i] =
            noisy ? x[i] + stddev * gen.normal<float>(stream, first + static_cast<std::uint64_t>(i)) : x[i];
      });
}

// w (n) = 1 / scale^2 of the target normalizer over a row of Cout channels x P points.
void loss_weights(const ExecSpace& exec, const data::NormalizerView<float>& y, index_t points, float* w) {
  const auto scale = y.scale;
  const bool per_channel = y.kind == data::NormKind::channel;
  Kokkos::parallel_for(
      "surro::train::loss_weights", Kokkos::RangePolicy<ExecSpace>(exec, 0, index_t(y.channels) * points),
      KOKKOS_LAMBDA(const index_t k) {
        const float s = scale(per_channel ? k / points : k);
        w[k] = 1.0f / (s * s);
      });
}

}  // namespace trainer_impl

Trainer::Trainer(const ExecSpace& exec, std::shared_ptr<const Architecture> arch, const AdamConfig& optim,
                 std::uint64_t seed, std::shared_ptr<const ModelNormalizers> norms,
                 const TrainOptions& options)
    : m_arch(std::move(arch)),
      m_options(options),
      m_table(make_table(*m_arch)),
      m_params(m_table, "surro::train::params"),
      m_grads(m_table, "surro::train::grads"),
      m_adam(m_table, optim),
      m_norms(std::move(norms)),
      m_seed(seed) {
  m_points = m_arch->shape().points();
  if (m_arch->shape().on_mesh())
    SURRO_REQUIRE(options.capacity.nodes > 0 && options.capacity.meshes > 0,
                  "trainer: a mesh model needs the graph batch capacity (TrainOptions::capacity)");
  if (options.normalized_loss) {
    SURRO_REQUIRE(m_norms && m_norms->y,
                  "trainer: the normalized loss needs a target normalizer "
                  "(normalize.targets)");
    m_loss_weights =
        View1<float>("surro::train::loss_weights", std::size_t(m_arch->out_channels()) * m_points);
    trainer_impl::loss_weights(exec, *m_norms->y, m_points, m_loss_weights.data());
  }
  m_arch->init(exec, m_table, m_params.values().data(), seed);
}

Trainer::Trainer(const ExecSpace& exec, std::shared_ptr<const Architecture> arch, const AdamConfig& optim,
                 const std::vector<int>& grid, std::uint64_t seed,
                 std::shared_ptr<const ModelNormalizers> norms)
    : Trainer(exec, arch, optim, seed, std::move(norms)) {
  SURRO_REQUIRE(m_arch->shape().grid == grid, "trainer: the architecture is bound to another grid");
}

Model<ExecSpace, float>& Trainer::model_for(const ExecSpace& exec, const Batch<ExecSpace>& batch,
                                            bool training) {
  const bool mesh = m_arch->shape().on_mesh();
  SURRO_REQUIRE(mesh == batch.on_mesh(), "trainer: a " << (batch.on_mesh() ? "mesh" : "grid")
                                                       << " batch for a " << m_arch->type()
                                                       << " model bound to " << (mesh ? "meshes" : "a grid"));
  PlanShape plan;
  plan.batch = mesh ? m_options.capacity.meshes : batch.samples;
  plan.graph = m_options.capacity;
  auto& slot = m_models[{mesh ? 0 : batch.samples, training}];
  if (!slot) slot = planned_factory(*m_arch, m_table, plan, m_norms)(exec, training);
  const std::size_t need = std::size_t(plan.rows(mesh)) * m_arch->out_channels() * m_points;
  if (m_pred.extent(0) < need) {
    m_pred = View1<float>("surro::train::pred", need);
    m_dpred = View1<float>("surro::train::dpred", need);
  }
  return *slot;
}

const float* Trainer::noisy_input(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x) {
  if (m_noise <= 0.0) return x;
  const index_t row = index_t(m_arch->in_channels()) * m_points;
  const std::size_t n = std::size_t(batch.rows()) * row;
  if (m_noisy.extent(0) < n) m_noisy = View1<float>("surro::train::noisy_input", n);
  // Streams below 2^32 belong to parameter initialization (one per tensor).
  const std::uint64_t stream = (std::uint64_t(1) << 32) + static_cast<std::uint64_t>(m_adam.steps());
  trainer_impl::add_noise(exec, index_t(n), row, batch.node_type(), m_seed, stream, m_input_offset,
                          static_cast<float>(m_noise), x, m_noisy.data());
  return m_noisy.data();
}

double Trainer::loss(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* pred,
                     const float* target, float* dpred) {
  const index_t n = index_t(m_arch->out_channels()) * m_points;
  const float* w = m_loss_weights.extent(0) ? m_loss_weights.data() : nullptr;
  const double value = m_row_loss.compute(exec, m_options.loss, batch, n, w, pred, target, dpred);
  return m_options.loss == LossKind::mse ? value * batch.samples : value;
}

double Trainer::update(const ExecSpace& exec, double loss, double lr) {
  if (m_reducer) loss = m_reducer(exec, m_grads.values().data(), m_grads.values().extent(0), loss);
  m_grad_norm = grad_norm_clip(exec, m_grads.values(), m_adam.config().clip);
  m_skipped = m_skip_nonfinite && !(std::isfinite(loss) && std::isfinite(m_grad_norm));
  if (m_skipped)
    m_adam.set_steps(m_adam.steps() + 1);  // the run's position advances; nothing is updated
  else
    m_adam.step(exec, m_params, m_grads, lr);
  return loss;
}

double Trainer::idle_step(const ExecSpace& exec, double lr) {
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  return update(exec, 0.0, lr);
}

double Trainer::train_step(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x,
                           const float* target, double lr) {
  ScopedRegion region("surro::train::step");
  x = noisy_input(exec, batch, x);
  Model<ExecSpace, float>& model = model_for(exec, batch, true);
  model.forward(exec, batch, m_params.values().data(), x, m_pred.data());
  const double value = loss(exec, batch, m_pred.data(), target, m_dpred.data());
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  model.backward(exec, batch, m_params.values().data(), m_dpred.data(), m_grads.values().data(), nullptr);
  return update(exec, value, lr);
}

double Trainer::evaluate(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x,
                         const float* target, float* pred) {
  ScopedRegion region("surro::train::evaluate");
  Model<ExecSpace, float>& model = model_for(exec, batch, false);
  float* out = pred ? pred : m_pred.data();
  model.forward(exec, batch, m_params.values().data(), x, out);
  return loss(exec, batch, out, target, nullptr);
}

Unroller<ExecSpace, float>& Trainer::unroller_for(const ExecSpace& exec, int batch, int t_out) {
  SURRO_REQUIRE(!m_arch->shape().on_mesh(),
                "trainer: multi-step training (unrolled, pushforward) is for grid "
                "models; train mesh models with train.mode teacher_forcing");
  auto& slot = m_unrollers[{batch, t_out}];
  if (!slot) {
    PlanShape plan;
    plan.batch = batch;
    slot = std::make_unique<Unroller<ExecSpace, float>>(
        exec, planned_factory(*m_arch, m_table, plan, m_norms), m_arch->in_channels(), m_arch->out_channels(),
        batch, m_arch->shape().grid, t_out);
  }
  return *slot;
}

double Trainer::train_step_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                                    const float* targets, double lr, UnrollMode mode) {
  ScopedRegion region("surro::train::step_unrolled");
  x = noisy_input(exec, grid_batch<ExecSpace>(batch), x);
  Unroller<ExecSpace, float>& unroller = unroller_for(exec, batch, t_out);
  Kokkos::deep_copy(exec, m_grads.values(), 0.0f);
  const double loss =
      unroller.loss_and_grad(exec, mode, m_params.values().data(), x, targets, m_grads.values().data());
  return update(exec, loss, lr);
}

double Trainer::evaluate_unrolled(const ExecSpace& exec, int batch, int t_out, const float* x,
                                  const float* targets) {
  ScopedRegion region("surro::train::evaluate_unrolled");
  return unroller_for(exec, batch, t_out).evaluate(exec, m_params.values().data(), x, targets);
}

}  // namespace surro::op
