#include "operators/optim/schedule.hpp"

#include "core/constants.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>

namespace surro::op {

namespace {


// torch OneCycleLR's _annealing_cos: from `start` (pct = 0) to `end` (pct = 1).
double anneal_cos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1.0);
}

double factor(const ScheduleConfig& c, long long s, long long spe, long long total) {
  using T = ScheduleConfig::Type;
  switch (c.type) {
    case T::constant:
      return 1.0;
    case T::step: {
      const long long u = c.per_epoch ? s / spe : s;
      return std::pow(c.gamma, static_cast<double>(u / c.step_size));
    }
    case T::cosine: {
      const double x = static_cast<double>(std::min(s, total)) / static_cast<double>(total);
      return c.floor + (1.0 - c.floor) * 0.5 * (1.0 + std::cos(kPi * x));
    }
    case T::one_cycle: {
      const double initial = 1.0 / c.div_factor, min = initial / c.final_div_factor;
      const double end1 = c.pct_start * static_cast<double>(total) - 1.0;
      const double end2 = static_cast<double>(total) - 1.0;
      const double x = static_cast<double>(std::min(s, total - 1));
      if (x <= end1) return anneal_cos(initial, 1.0, x / end1);
      return anneal_cos(1.0, min, (x - end1) / (end2 - end1));
    }
  }
  return 1.0;
}

}  // namespace

double learning_rate(const ScheduleConfig& c, double base_lr, long long s, const Horizon& h) {
  SURRO_REQUIRE(s >= 0, "learning_rate: step " << s << ": expected >= 0");
  SURRO_REQUIRE(h.steps_per_epoch > 0,
                "learning_rate: steps_per_epoch = " << h.steps_per_epoch << ": expected > 0");
  const long long unit = c.per_epoch ? h.steps_per_epoch : 1;
  const long long warmup = c.warmup * unit;
  long long total = c.total > 0 ? c.total * unit : h.total_steps;
  using T = ScheduleConfig::Type;
  if (c.type == T::cosine || c.type == T::one_cycle)
    SURRO_REQUIRE(total > 0,
                  "learning_rate: the schedule needs a length: set schedule.total or the run's "
                  "total steps");
  if (c.type == T::one_cycle)
    SURRO_REQUIRE(c.pct_start * static_cast<double>(total) > 1.0 && c.pct_start < 1.0,
                  "learning_rate: one_cycle over " << total << " steps with pct_start " << c.pct_start
                                                   << " leaves no warm-up or no annealing phase");
  double f = factor(c, s, h.steps_per_epoch, total);
  if (s < warmup) f *= static_cast<double>(s + 1) / static_cast<double>(warmup);
  return base_lr * f;
}

namespace {

ScheduleConfig read_common(config::Node& n, ScheduleConfig c) {
  c.per_epoch = n.get_string("unit", "step", config::one_of({"step", "epoch"})) == "epoch";
  c.warmup = n.get_int("warmup", 0, config::non_negative());
  return c;
}

config::Registry<ScheduleConfig> make_schedule_registry() {
  using T = ScheduleConfig::Type;
  config::Registry<ScheduleConfig> r("schedule");
  r.add("constant", [](config::Node& n) {
    ScheduleConfig c;
    c.type = T::constant;
    c = read_common(n, c);
    n.finish();
    return c;
  });
  r.add("step", [](config::Node& n) {
    ScheduleConfig c;
    c.type = T::step;
    c = read_common(n, c);
    c.step_size = n.require_int("step_size", config::positive());
    c.gamma = n.get_number("gamma", c.gamma, config::positive_number());
    n.finish();
    return c;
  });
  r.add("cosine", [](config::Node& n) {
    ScheduleConfig c;
    c.type = T::cosine;
    c = read_common(n, c);
    c.total = n.get_int("total", 0, config::non_negative());
    c.floor = n.get_number("floor", c.floor, config::in_range(0.0, 1.0));
    n.finish();
    return c;
  });
  r.add("one_cycle", [](config::Node& n) {
    ScheduleConfig c;
    c.type = T::one_cycle;
    c = read_common(n, c);
    c.total = n.get_int("total", 0, config::non_negative());
    c.pct_start = n.get_number(
        "pct_start", c.pct_start,
        config::Check<double>{[](const double& x) { return x > 0.0 && x < 1.0; }, "a number in (0, 1)"});
    c.div_factor = n.get_number("div_factor", c.div_factor, config::positive_number());
    c.final_div_factor = n.get_number("final_div_factor", c.final_div_factor, config::positive_number());
    n.finish();
    return c;
  });
  return r;
}

}  // namespace

const config::Registry<ScheduleConfig>& schedule_registry() {
  static const config::Registry<ScheduleConfig> r = make_schedule_registry();
  return r;
}

ScheduleConfig read_schedule(config::Node& section) {
  return schedule_registry().make(section);
}

}  // namespace surro::op
