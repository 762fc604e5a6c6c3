#pragma once
// Learning-rate schedules: pure functions of the step index (0-based: the update about to be
// taken), so a resumed run reproduces them from the checkpoint's step alone.
//
//   lr(s) = base_lr * warm(s) * f(s)
//   warm(s) = (s + 1) / W for s < W (linear warm-up over W steps, never 0), else 1
//   constant : f = 1
//   step     : f = gamma^floor(u / step_size), u = s (unit "step") or s / steps_per_epoch ("epoch")
//   cosine   : f = floor + (1 - floor) (1 + cos(pi min(s, T) / T)) / 2, T = total steps
//   one_cycle: torch's OneCycleLR (cosine annealing, two phases) with max_lr = base_lr:
//              from base_lr / div_factor up to base_lr over pct_start T - 1 steps, then down to
//              base_lr / (div_factor * final_div_factor) at step T - 1.
#include "core/config.hpp"

#include <string>

namespace surro::op {

struct ScheduleConfig {
  enum class Type { constant, step, cosine, one_cycle };
  Type type = Type::constant;
  bool per_epoch = false;   // "unit": "epoch": step_size, warmup and total count epochs
  long long warmup = 0;     // linear warm-up length; 0 = none
  long long step_size = 1;  // step: decay every step_size units
  double gamma = 0.1;       // step: decay factor
  long long total = 0;      // cosine/one_cycle length; 0 = the whole run (Horizon::total_steps)
  double floor = 0.0;       // cosine: final factor
  double pct_start = 0.3, div_factor = 25.0, final_div_factor = 1e4;  // one_cycle
};

// What the schedule needs to know about the run to turn epochs into steps.
struct Horizon {
  long long steps_per_epoch = 1;
  long long total_steps = 0;  // the run's length in steps (for total = 0)
};

// Learning rate for step s (0-based). Errors (runtime): cosine/one_cycle without a length.
double learning_rate(const ScheduleConfig& cfg, double base_lr, long long s, const Horizon& h);

// Reads a "schedule" section: {"type": "constant" | "step" | "cosine" | "one_cycle",
// "unit": "step" | "epoch", "warmup", ...type keys}. Unknown type: Error(usage) listing all.
ScheduleConfig read_schedule(config::Node& section);
const config::Registry<ScheduleConfig>& schedule_registry();

}  // namespace surro::op
