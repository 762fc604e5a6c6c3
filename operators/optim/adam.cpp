#include "operators/optim/adam.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/reduce.hpp"
#include "core/timer.hpp"

#include <cmath>

namespace surro::op {

namespace {

AdamConfig read_adam_common(config::Node& n, AdamConfig c) {
  c.lr = n.get_number("lr", c.lr, config::positive_number());
  const std::vector<double> betas = n.get_number_array(
      "betas", {c.beta1, c.beta2},
      config::Check<double>{[](const double& b) { return b >= 0.0 && b < 1.0; }, "a number in [0, 1)"});
  if (betas.size() != 2)
    n.fail("betas", "expected two numbers [beta1, beta2], got " + std::to_string(betas.size()));
  c.beta1 = betas[0];
  c.beta2 = betas[1];
  c.eps = n.get_number("eps", c.eps, config::positive_number());
  const auto non_negative = config::non_negative_number();
  c.weight_decay = n.get_number("weight_decay", c.weight_decay, non_negative);
  c.clip = n.get_number("clip", c.clip, non_negative);
  n.finish();
  return c;
}

config::Registry<AdamConfig> make_optimizer_registry() {
  config::Registry<AdamConfig> r("optimizer");
  r.add("adam", [](config::Node& n) {
    AdamConfig c;
    c.decay = AdamConfig::Decay::l2;
    c.weight_decay = 0.0;
    return read_adam_common(n, c);
  });
  r.add("adamw", [](config::Node& n) {
    AdamConfig c;
    c.decay = AdamConfig::Decay::decoupled;
    c.weight_decay = 0.01;  // torch.optim.AdamW's default
    return read_adam_common(n, c);
  });
  return r;
}

}  // namespace

const config::Registry<AdamConfig>& optimizer_registry() {
  static const config::Registry<AdamConfig> r = make_optimizer_registry();
  return r;
}

AdamConfig read_optimizer(config::Node& section) {
  return optimizer_registry().make(section);
}

// Kernels: free functions in a named namespace (nvcc's extended lambdas may not sit in private
// members or functions with internal linkage).
namespace adam_impl {

struct Coeffs {
  float beta1, beta2, one_minus_beta1, one_minus_beta2;
  float step_size;     // lr / (1 - beta1^t)
  float inv_sqrt_bc2;  // 1 / sqrt(1 - beta2^t)
  float eps;
  float l2;     // adam: wd; adamw: 0
  float decay;  // adamw: 1 - lr wd; adam: 1
};

template <class Exec>
void update(const Exec& exec, const Coeffs k, std::size_t n /* trainable prefix */,
            const View1<float, typename Exec::memory_space>& p,
            const View1<float, typename Exec::memory_space>& g,
            const View1<float, typename Exec::memory_space>& m,
            const View1<float, typename Exec::memory_space>& v) {
  profile::add_work("surro::op::adam::update", 7.0 * n * sizeof(float));  // p, g, m, v in; p, m, v out
  Kokkos::parallel_for(
      "surro::op::adam::update", Kokkos::RangePolicy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const std::size_t i) {
        const float pi = p(i);
        const float gi = g(i) + k.l2 * pi;
        const float mi = k.beta1 * m(i) + k.one_minus_beta1 * gi;
        const float vi = k.beta2 * v(i) + k.one_minus_beta2 * gi * gi;
        m(i) = mi;
        v(i) = vi;
        const float denom = ::sqrtf(vi) * k.inv_sqrt_bc2 + k.eps;
        p(i) = pi * k.decay - k.step_size * mi / denom;
      });
}

template <class Exec>
double norm_clip(const Exec& exec, const View1<float, typename Exec::memory_space>& g, double max_norm) {
  const double sum = reduce::ordered_sum(
      exec, "surro::op::grad_norm_clip::norm", index_t(g.extent(0)), KOKKOS_LAMBDA(const index_t i)->double {
        const double x = g(i);
        return x * x;
      });
  const double norm = std::sqrt(sum);
  if (max_norm > 0.0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    Kokkos::parallel_for(
        "surro::op::grad_norm_clip::scale", Kokkos::RangePolicy<Exec>(exec, 0, g.extent(0)),
        KOKKOS_LAMBDA(const std::size_t i) { g(i) *= scale; });
  }
  return norm;
}

}  // namespace adam_impl

template <class Exec>
Adam<Exec>::Adam(const ParamTable& table, const AdamConfig& cfg)
    : m_cfg(cfg), m_m(table, "surro::op::adam::m"), m_v(table, "surro::op::adam::v") {}

template <class Exec>
void Adam<Exec>::step(const Exec& exec, const FlatParams<float, Mem>& params,
                      const FlatParams<float, Mem>& grads, double lr) {
  ScopedRegion region("surro::op::adam::step");
  const std::size_t n = m_m.values().extent(0);
  SURRO_REQUIRE(params.values().extent(0) == n && grads.values().extent(0) == n,
                "adam: parameters (" << params.values().extent(0) << ") and gradients ("
                                     << grads.values().extent(0) << ") do not match the moments (" << n
                                     << " scalars)");
  ++m_steps;
  const double t = static_cast<double>(m_steps);
  const double bc1 = 1.0 - std::pow(m_cfg.beta1, t), bc2 = 1.0 - std::pow(m_cfg.beta2, t);
  const bool decoupled = m_cfg.decay == AdamConfig::Decay::decoupled;
  adam_impl::Coeffs k;
  k.beta1 = static_cast<float>(m_cfg.beta1);
  k.beta2 = static_cast<float>(m_cfg.beta2);
  k.one_minus_beta1 = static_cast<float>(1.0 - m_cfg.beta1);
  k.one_minus_beta2 = static_cast<float>(1.0 - m_cfg.beta2);
  k.step_size = static_cast<float>(lr / bc1);
  k.inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  k.eps = static_cast<float>(m_cfg.eps);
  k.l2 = decoupled ? 0.0f : static_cast<float>(m_cfg.weight_decay);
  k.decay = decoupled ? static_cast<float>(1.0 - lr * m_cfg.weight_decay) : 1.0f;
  // Frozen tensors (the table's suffix) are neither updated nor decayed.
  adam_impl::update(exec, k, params.table().trainable_size(), params.values(), grads.values(), m_m.values(),
                    m_v.values());
}

template <class Exec>
double grad_norm_clip(const Exec& exec, const View1<float, typename Exec::memory_space>& grads,
                      double max_norm) {
  ScopedRegion region("surro::op::grad_norm_clip");
  return adam_impl::norm_clip(exec, grads, max_norm);
}

template class Adam<ExecSpace>;
template double grad_norm_clip<ExecSpace>(const ExecSpace&, const View1<float, MemSpace>&, double);
#ifdef KOKKOS_ENABLE_CUDA
template class Adam<HostExec>;
template double grad_norm_clip<HostExec>(const HostExec&, const View1<float, HostMem>&, double);
#endif

}  // namespace surro::op
