#pragma once
// Adam and AdamW over the flat parameter View (operators/params.hpp): parameters, gradients and
// the two moments share one ParamTable, so an update is one fused kernel over `table.size()`
// scalars (padding included; padding stays 0 because its gradient is 0).
//
// Update at step t = 1, 2, ... (PyTorch's formulation, as the FNO reference's Adam.py):
//   adam  : g <- g + wd p                      (L2 penalty folded into the gradient)
//   adamw : p <- p (1 - lr wd)                 (decoupled decay, Loshchilov & Hutter)
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// The bias corrections are computed on the host in double and passed as float constants.
#include "core/config.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <string>

namespace surro::op {

struct AdamConfig {
  enum class Decay { l2, decoupled };  // "adam": L2 in the gradient; "adamw": decoupled
  Decay decay = Decay::l2;
  double lr = 1e-3;  // base learning rate; a schedule scales it per step
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double clip = 0.0;  // max global gradient L2 norm; 0 = no clipping (see grad_norm_clip)
};

// Reads an "optimizer" section: {"type": "adam" | "adamw", "lr", "betas": [b1, b2], "eps",
// "weight_decay" (adam 0, adamw 0.01 as torch), "clip"}. Unknown type: Error(usage) listing both.
AdamConfig read_optimizer(config::Node& section);
// The registry behind read_optimizer (types "adam", "adamw").
const config::Registry<AdamConfig>& optimizer_registry();

// Optimizer state: the moments m and v (laid out by the parameter table) and the step counter.
template <class Exec>
class Adam {
 public:
  using Mem = typename Exec::memory_space;

  Adam(const ParamTable& table, const AdamConfig& cfg);

  // One update of `params` from `grads` at learning rate `lr` (the schedule's value for this
  // step). Increments steps() first, so the first update uses t = 1.
  void step(const Exec& exec, const FlatParams<float, Mem>& params, const FlatParams<float, Mem>& grads,
            double lr);

  long long steps() const { return m_steps; }
  void set_steps(long long t) { m_steps = t; }  // when restoring from a checkpoint
  const AdamConfig& config() const { return m_cfg; }
  const FlatParams<float, Mem>& m() const { return m_m; }  // first moment
  const FlatParams<float, Mem>& v() const { return m_v; }  // second moment

 private:
  AdamConfig m_cfg;
  FlatParams<float, Mem> m_m, m_v;
  long long m_steps = 0;
};

// Global L2 norm of the whole flat gradient (accumulated in double); when max_norm > 0 and the
// norm exceeds it, scales every gradient by max_norm / (norm + 1e-6) as torch's
// clip_grad_norm_. Returns the norm before scaling.
template <class Exec>
double grad_norm_clip(const Exec& exec, const View1<float, typename Exec::memory_space>& grads,
                      double max_norm);

}  // namespace surro::op
