// Adam/AdamW against a naive double-precision host loop, convergence on a quadratic, the exact
// AdamW - Adam relation, schedules in closed form, global-norm clipping, config readers.
#include "core/config.hpp"
#include "core/constants.hpp"
#include "core/rng.hpp"
#include "operators/optim/adam.hpp"
#include "operators/optim/schedule.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace surro;
using namespace surro::op;

namespace {


// A table with a real and a complex slot whose sizes are not multiples of the alignment, so the
// flat View has padding.
ParamTable small_table() {
  ParamTable t;
  t.add("net.w", {3, 7});
  t.add("net.spectral", {5, 2}, ParamKind::complex);
  t.add("net.b", {9});
  return t;
}

// Fills a flat View (padding included) with uniforms in [lo, hi) drawn from stream `stream`;
// padding scalars get 0, as a real gradient's padding would.
template <class Mem>
void fill(const ParamTable& t, const View1<float, Mem>& v, std::uint64_t stream, double lo, double hi) {
  auto h = Kokkos::create_mirror_view(v);
  Kokkos::deep_copy(h, 0.0f);
  const rng::Philox gen{99};
  for (const ParamSlot& s : t.slots())
    for (std::size_t i = 0; i < s.count; ++i)
      h(s.offset + i) = static_cast<float>(lo + (hi - lo) * gen.uniform<double>(stream, s.offset + i));
  Kokkos::deep_copy(v, h);
}

// g = a (p - c), the gradient of 0.5 sum a (p - c)^2.
template <class Mem>
struct QuadraticGrad {
  View1<float, Mem> p, g, a, c;
  KOKKOS_INLINE_FUNCTION void operator()(const std::size_t i) const { g(i) = a(i) * (p(i) - c(i)); }
};

double quadratic_loss(const std::vector<float>& p, const std::vector<float>& a, const std::vector<float>& c) {
  double s = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) s += 0.5 * a[i] * (double(p[i]) - c[i]) * (double(p[i]) - c[i]);
  return s;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("adam: Adam and AdamW match a naive double loop over several steps", "[adam]",
                        surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const ParamTable t = small_table();
  const auto decay = GENERATE(AdamConfig::Decay::l2, AdamConfig::Decay::decoupled);
  AdamConfig cfg;
  cfg.decay = decay;
  cfg.lr = 1e-2;
  cfg.beta1 = 0.9;
  cfg.beta2 = 0.99;
  cfg.eps = 1e-8;
  cfg.weight_decay = 0.1;
  FlatParams<float, Mem> p(t, "p"), g(t, "g");
  fill(t, p.values(), 1, -1.0, 1.0);
  Adam<Exec> opt(t, cfg);

  const std::size_t n = t.size();
  std::vector<double> rp(n), rm(n, 0.0), rv(n, 0.0);
  {
    const auto hp = surro::test::to_host(p.values());
    for (std::size_t i = 0; i < n; ++i) rp[i] = hp[i];
  }
  const int steps = 6;
  double pmax = 0.0;
  for (int k = 1; k <= steps; ++k) {
    fill(t, g.values(), 100 + k, -1.0, 1.0);     // fixed gradients: the comparison is not chaotic
    const double lr = cfg.lr * (1.0 + 0.1 * k);  // a varying lr, as a schedule gives
    opt.step(Exec(), p, g, lr);
    const auto hg = surro::test::to_host(g.values());
    const double bc1 = 1.0 - std::pow(cfg.beta1, k), bc2 = 1.0 - std::pow(cfg.beta2, k);
    for (std::size_t i = 0; i < n; ++i) {
      double gi = hg[i];
      if (decay == AdamConfig::Decay::l2)
        gi += cfg.weight_decay * rp[i];
      else
        rp[i] *= 1.0 - lr * cfg.weight_decay;
      rm[i] = cfg.beta1 * rm[i] + (1.0 - cfg.beta1) * gi;
      rv[i] = cfg.beta2 * rv[i] + (1.0 - cfg.beta2) * gi * gi;
      rp[i] -= lr * (rm[i] / bc1) / (std::sqrt(rv[i] / bc2) + cfg.eps);
      pmax = std::max(pmax, std::abs(rp[i]));
    }
  }
  CHECK(opt.steps() == steps);
  // Each step rounds every float operation once: the parameter picks up a few ulp of max(|p|, lr)
  // per step (|m_hat| / sqrt(v_hat) <= 1 / sqrt(1 - b2) ... bounded by ~3.2 here, since b1^2 < b2),
  // and m, v a few ulp of their own size. 16 eps per step per unit of scale covers that with margin.
  const double eps = surro::test::epsilon<float>();
  const auto hp = surro::test::to_host(p.values());
  const auto hm = surro::test::to_host(opt.m().values());
  const auto hv = surro::test::to_host(opt.v().values());
  double ep = 0.0, em = 0.0, ev = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    ep = std::max(ep, std::abs(hp[i] - rp[i]));
    em = std::max(em, std::abs(hm[i] - rm[i]) / (std::abs(rm[i]) + 1.0));
    ev = std::max(ev, std::abs(hv[i] - rv[i]) / (std::abs(rv[i]) + 1e-3));
  }
  CHECK(ep <= 16.0 * eps * steps * (pmax + 4.0 * cfg.lr * 1.6));
  CHECK(em <= 16.0 * eps * steps);
  CHECK(ev <= 16.0 * eps * steps);
  // Padding never moves (its gradient is 0 and its value 0, so the decay keeps it 0).
  for (const ParamSlot& s : t.slots())
    for (std::size_t i = s.offset + s.count; i < std::min(n, s.offset + (s.count + 31) / 32 * 32); ++i)
      CHECK(hp[i] == 0.0f);
}

TEMPLATE_LIST_TEST_CASE("adam: AdamW differs from Adam exactly by the decoupled decay term", "[adam]",
                        surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const ParamTable t = small_table();
  AdamConfig a;
  a.lr = 3e-3;
  AdamConfig w = a;
  w.decay = AdamConfig::Decay::decoupled;
  w.weight_decay = 0.05;
  FlatParams<float, Mem> pa(t, "pa"), pw(t, "pw"), g(t, "g");
  fill(t, pa.values(), 1, -2.0, 2.0);
  Kokkos::deep_copy(pw.values(), pa.values());
  Adam<Exec> oa(t, a), ow(t, w);
  std::vector<float> before = surro::test::to_host(pa.values());
  for (int k = 1; k <= 3; ++k) {
    fill(t, g.values(), 10 + k, -1.0, 1.0);
    oa.step(Exec(), pa, g, a.lr);
    ow.step(Exec(), pw, g, a.lr);
    // The moments see the same gradients: bitwise identical.
    CHECK(surro::test::to_host(oa.m().values()) == surro::test::to_host(ow.m().values()));
    CHECK(surro::test::to_host(oa.v().values()) == surro::test::to_host(ow.v().values()));
    const auto ha = surro::test::to_host(pa.values()), hw = surro::test::to_host(pw.values());
    // One step from the same p: p_w - p_a = -lr wd p up to the rounding of (1 - lr wd), of p (1 -
    // lr wd) and of the two subtractions: 4 ulp of max(|p|, |p_a|).
    const double eps = surro::test::epsilon<float>();
    for (std::size_t i = 0; i < ha.size(); ++i) {
      const double want = -a.lr * w.weight_decay * before[i];
      const double scale = std::max(std::abs(double(before[i])), std::abs(double(ha[i])));
      CHECK(std::abs((double(hw[i]) - double(ha[i])) - want) <= 4.0 * eps * scale);
    }
    Kokkos::deep_copy(pw.values(), pa.values());  // restart from a common point each step
    before = ha;
  }
}

TEMPLATE_LIST_TEST_CASE("adam: frozen parameters are neither updated nor decayed", "[adam]",
                        surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  ParamTable t = small_table();
  const std::size_t frozen = t.add_frozen("net.fixed", {3, 5});
  CHECK(t.trainable_size() == t.slot(frozen).offset);
  CHECK_THROWS_WITH(t.add("net.late", {2}), Catch::Contains("frozen parameters come last"));
  AdamConfig w;
  w.decay = AdamConfig::Decay::decoupled;
  w.weight_decay = 0.1;
  FlatParams<float, Mem> p(t, "p"), g(t, "g");
  fill(t, p.values(), 1, -2.0, 2.0);
  fill(t, g.values(), 2, -1.0, 1.0);  // even a nonzero gradient on the frozen slot is ignored
  const std::vector<float> before = surro::test::to_host(p.values());
  Adam<Exec> opt(t, w);
  opt.step(Exec(), p, g, 1e-2);
  const std::vector<float> after = surro::test::to_host(p.values());
  const ParamSlot& s = t.slot(frozen);
  for (std::size_t i = 0; i < s.count; ++i) CHECK(after[s.offset + i] == before[s.offset + i]);
  // The trainable prefix moved (a positive control for the check above).
  CHECK(after[0] != before[0]);
}

TEMPLATE_LIST_TEST_CASE("adam: converges on a quadratic", "[adam]", surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  ParamTable t;
  t.add("x", {200});
  FlatParams<float, Mem> p(t, "p"), g(t, "g"), a(t, "a"), c(t, "c");
  fill(t, a.values(), 2, 0.5, 2.0);   // curvatures: condition number 4
  fill(t, c.values(), 3, -2.0, 2.0);  // the minimum
  AdamConfig cfg;
  cfg.decay = AdamConfig::Decay::decoupled;
  cfg.weight_decay = 0.0;
  cfg.lr = 0.05;
  ScheduleConfig sched;
  sched.type = ScheduleConfig::Type::cosine;
  const Horizon h{1, 400};
  Adam<Exec> opt(t, cfg);
  const auto ha = surro::test::to_host(a.values()), hc = surro::test::to_host(c.values());
  const double loss0 = quadratic_loss(surro::test::to_host(p.values()), ha, hc);
  for (long long s = 0; s < h.total_steps; ++s) {
    Kokkos::parallel_for("test::adam::quadratic_grad", Kokkos::RangePolicy<Exec>(Exec(), 0, t.size()),
                         QuadraticGrad<Mem>{p.values(), g.values(), a.values(), c.values()});
    opt.step(Exec(), p, g, learning_rate(sched, cfg.lr, s, h));
  }
  const double loss1 = quadratic_loss(surro::test::to_host(p.values()), ha, hc);
  // Adam moves each coordinate by about lr per step, so 2 units need ~40 full-lr steps; the
  // cosine tail then removes the lr-sized oscillation. Measured: 154 -> 5e-11 (a factor of 3e12);
  // we require 1e6, far from both the measurement and the float floor (~1e-12 per coordinate).
  INFO("loss " << loss0 << " -> " << loss1);
  CHECK(loss1 < loss0 * 1e-6);
}

TEST_CASE("schedule: closed-form values", "[schedule]") {
  using T = ScheduleConfig::Type;
  const double lr = 0.1;
  const Horizon h{10, 200};  // 10 steps per epoch, 200 steps in the run
  ScheduleConfig c;
  CHECK(learning_rate(c, lr, 0, h) == lr);
  CHECK(learning_rate(c, lr, 1234, h) == lr);

  c.warmup = 4;  // linear warm-up: (s + 1) / 4 for s < 4
  CHECK(learning_rate(c, lr, 0, h) == Approx(0.025).epsilon(1e-15));
  CHECK(learning_rate(c, lr, 2, h) == Approx(0.075).epsilon(1e-15));
  CHECK(learning_rate(c, lr, 4, h) == lr);

  ScheduleConfig st;  // StepLR(step_size = 5 epochs, gamma = 0.7): IFactFormer's schedule
  st.type = T::step;
  st.per_epoch = true;
  st.step_size = 5;
  st.gamma = 0.7;
  CHECK(learning_rate(st, lr, 49, h) == lr);                                       // epoch 4
  CHECK(learning_rate(st, lr, 50, h) == Approx(0.07).epsilon(1e-15));              // epoch 5
  CHECK(learning_rate(st, lr, 149, h) == Approx(0.1 * 0.7 * 0.7).epsilon(1e-15));  // epoch 14
  st.per_epoch = false;
  st.step_size = 100;
  st.gamma = 0.5;  // FNO's StepLR(100, 0.5) counted in steps
  CHECK(learning_rate(st, lr, 99, h) == lr);
  CHECK(learning_rate(st, lr, 250, h) == Approx(0.025).epsilon(1e-15));

  ScheduleConfig co;
  co.type = T::cosine;
  co.floor = 1e-3;
  CHECK(learning_rate(co, lr, 0, h) == lr);
  CHECK(learning_rate(co, lr, 100, h) == Approx(lr * (1e-3 + (1 - 1e-3) * 0.5)).epsilon(1e-14));
  CHECK(learning_rate(co, lr, 50, h) ==
        Approx(lr * (1e-3 + (1 - 1e-3) * 0.5 * (1 + std::cos(kPi / 4)))).epsilon(1e-14));
  CHECK(learning_rate(co, lr, 200, h) == Approx(lr * 1e-3).epsilon(1e-14));
  CHECK(learning_rate(co, lr, 500, h) == Approx(lr * 1e-3).epsilon(1e-14));  // stays at the floor
  co.warmup = 10;  // cosine with warm-up (graph-physics' CosineWarmupScheduler shape)
  CHECK(learning_rate(co, lr, 4, h) ==
        Approx(lr * 0.5 * (1e-3 + (1 - 1e-3) * 0.5 * (1 + std::cos(kPi * 4 / 200)))).epsilon(1e-14));
  co.total = 10;  // in epochs
  co.per_epoch = true;
  co.warmup = 0;
  CHECK(learning_rate(co, lr, 50, h) == Approx(lr * (1e-3 + (1 - 1e-3) * 0.5)).epsilon(1e-14));

  ScheduleConfig oc;  // torch OneCycleLR(max_lr = 0.1, total_steps = 200), pct 0.3, div 25, final 1e4
  oc.type = T::one_cycle;
  const double initial = lr / 25, min = initial / 1e4, end1 = 0.3 * 200 - 1;  // 59
  CHECK(learning_rate(oc, lr, 0, h) == Approx(initial).epsilon(1e-14));
  CHECK(learning_rate(oc, lr, 59, h) == Approx(lr).epsilon(1e-14));
  CHECK(learning_rate(oc, lr, 30, h) ==
        Approx(lr + (initial - lr) / 2 * (1 + std::cos(kPi * 30 / end1))).epsilon(1e-14));
  CHECK(learning_rate(oc, lr, 129, h) ==
        Approx(min + (lr - min) / 2 * (1 + std::cos(kPi * (129 - end1) / (199 - end1)))).epsilon(1e-14));
  CHECK(learning_rate(oc, lr, 199, h) == Approx(min).epsilon(1e-12));

  ScheduleConfig no_len;
  no_len.type = T::cosine;
  CHECK_THROWS_WITH(learning_rate(no_len, lr, 0, Horizon{1, 0}), Catch::Contains("needs a length"));
}

TEMPLATE_LIST_TEST_CASE("adam: grad_norm_clip computes the global norm and scales only above max_norm",
                        "[adam]", surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const ParamTable t = small_table();
  FlatParams<float, Mem> g(t, "g");
  fill(t, g.values(), 7, -3.0, 3.0);
  const auto h0 = surro::test::to_host(g.values());
  double ss = 0.0;
  for (float x : h0) ss += double(x) * x;
  const double norm = std::sqrt(ss);
  // Double accumulation of float squares: the sum is exact to ~n eps_double.
  const double got = grad_norm_clip(Exec(), g.values(), norm * 1.01);
  CHECK(got == Approx(norm).epsilon(1e-13));
  CHECK(surro::test::to_host(g.values()) == h0);  // below max_norm: untouched, bitwise
  CHECK(grad_norm_clip(Exec(), g.values(), 0.0) == Approx(norm).epsilon(1e-13));  // 0: never clips
  CHECK(surro::test::to_host(g.values()) == h0);

  const double max_norm = norm / 4;
  CHECK(grad_norm_clip(Exec(), g.values(), max_norm) == Approx(norm).epsilon(1e-13));
  const auto h1 = surro::test::to_host(g.values());
  const double scale = max_norm / (norm + 1e-6);
  double ss1 = 0.0;
  for (std::size_t i = 0; i < h1.size(); ++i) {
    // One float multiply by a float-rounded scale: 2 ulp.
    CHECK(std::abs(h1[i] - h0[i] * scale) <= 2.0 * surro::test::epsilon<float>() * std::abs(h0[i] * scale));
    ss1 += double(h1[i]) * h1[i];
  }
  CHECK(std::sqrt(ss1) == Approx(max_norm).epsilon(1e-5));
}

TEST_CASE("adam: optimizer and schedule sections", "[adam]") {
  using config::json;
  const json root = json::parse(R"({
    "optimizer": {"type": "adamw", "lr": 5e-4, "betas": [0.9, 0.95], "clip": 1.0},
    "schedule": {"type": "step", "unit": "epoch", "step_size": 5, "gamma": 0.7, "warmup": 2}
  })");
  json resolved;
  config::Node top(root, "run.json", "", &resolved);
  config::Node o = top.child("optimizer");
  const AdamConfig a = read_optimizer(o);
  CHECK(a.decay == AdamConfig::Decay::decoupled);
  CHECK(a.lr == 5e-4);
  CHECK(a.beta2 == 0.95);
  CHECK(a.weight_decay == 0.01);  // torch AdamW's default
  CHECK(a.clip == 1.0);
  config::Node s = top.child("schedule");
  const ScheduleConfig sc = read_schedule(s);
  CHECK(sc.type == ScheduleConfig::Type::step);
  CHECK(sc.per_epoch);
  CHECK(sc.step_size == 5);
  CHECK(sc.warmup == 2);
  top.finish();
  CHECK(resolved["optimizer"]["eps"] == 1e-8);

  const json bad = json::parse(R"({"optimizer": {"type": "sgd"}, "schedule": {"type": "linear"}})");
  config::Node top2(bad, "run.json", "", nullptr);
  config::Node o2 = top2.child("optimizer");
  CHECK_THROWS_WITH(read_optimizer(o2),
                    Catch::Contains("run.json: optimizer.type: unknown optimizer type 'sgd'; "
                                    "valid types: adam, adamw"));
  config::Node s2 = top2.child("schedule");
  CHECK_THROWS_WITH(read_schedule(s2), Catch::Contains("valid types: constant, cosine, one_cycle, step"));
  const json bad_beta = json::parse(R"({"optimizer": {"type": "adam", "betas": [0.9, 1.0]}})");
  config::Node top3(bad_beta, "run.json", "", nullptr);
  config::Node o3 = top3.child("optimizer");
  CHECK_THROWS_WITH(read_optimizer(o3), Catch::Contains("optimizer.betas"));
  const json bad_key = json::parse(R"({"schedule": {"type": "cosine", "gamma": 0.5}})");
  config::Node top4(bad_key, "run.json", "", nullptr);
  config::Node s4 = top4.child("schedule");
  CHECK_THROWS_WITH(read_schedule(s4), Catch::Contains("schedule.gamma"));
}
