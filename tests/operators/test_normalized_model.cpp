// NormalizedModel: y = decode_y(inner(encode_x(x))) and its backward, checked exactly against a
// diagonal inner model whose map is known in closed form; the trainer's input noise.
#include "datasets/normalizer.hpp"
#include "operators/models/fno.hpp"
#include "operators/train/normalized_model.hpp"
#include "operators/train/trainer.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace surro;

namespace {

// Inner model with Cin = T * C inputs and C outputs: y(b, c, p) = a * sum_t x(b, t * C + c, p).
// Its input gradient is dx(b, t * C + c, p) = a dy(b, c, p); it has no parameters.
struct SumFrames {
  float* y;
  const float* x;
  float a;
  int frames;
  index_t per_frame;  // C * P
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t b = i / per_frame, j = i % per_frame;
    float s = 0;
    for (int t = 0; t < frames; ++t) s += x[(b * frames + t) * per_frame + j];
    y[i] = a * s;
  }
};
struct SpreadFrames {
  float* dx;
  const float* dy;
  float a;
  int frames;
  index_t per_frame;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t b = i / per_frame, j = i % per_frame;
    for (int t = 0; t < frames; ++t) dx[(b * frames + t) * per_frame + j] = a * dy[i];
  }
};

class Diagonal final : public op::Model<ExecSpace, float> {
 public:
  Diagonal(int batch, int frames, index_t per_frame, float a)
      : m_batch(batch), m_frames(frames), m_per_frame(per_frame), m_a(a) {}
  void forward(const ExecSpace& exec, const op::Batch<ExecSpace>&, const float*, const float* x, float* y) override {
    Kokkos::parallel_for("test::diagonal::forward", Kokkos::RangePolicy<ExecSpace>(exec, 0, m_batch * m_per_frame),
                         SumFrames{y, x, m_a, m_frames, m_per_frame});
  }
  void backward(const ExecSpace& exec, const op::Batch<ExecSpace>&, const float*, const float* dy, float*,
                float* dx) override {
    if (!dx) return;
    Kokkos::parallel_for("test::diagonal::backward",
                         Kokkos::RangePolicy<ExecSpace>(exec, 0, m_batch * m_per_frame),
                         SpreadFrames{dx, dy, m_a, m_frames, m_per_frame});
  }

 private:
  int m_batch, m_frames;
  index_t m_per_frame;
  float m_a;
};

std::vector<float> normal_vector(std::size_t n, unsigned seed, double mean, double sd) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<float> v(n);
  for (auto& e : v) e = static_cast<float>(d(gen));
  return v;
}

}  // namespace

TEST_CASE("normalized model: forward and backward chain the normalizers around the inner model",
          "[normalized_model]") {
  // 2 fields on 12 points, windows of 3 frames, batch 2; inputs normalized per channel, targets
  // pointwise, each fitted on synthetic data with non-trivial means and spreads.
  const int C = 2, T = 3, B = 2;
  const index_t P = 12;
  const float a = 0.75f;
  data::GaussianNormalizer nx(data::NormKind::channel, C, P), ny(data::NormKind::pointwise, C, P);
  const std::vector<float> fit = normal_vector(std::size_t(40) * C * P, 1, 3.0, 2.0);
  nx.accumulate(fit.data(), 40);
  ny.accumulate(fit.data(), 40);
  nx.finish();
  ny.finish();
  auto norms = std::make_shared<op::ModelNormalizers>();
  norms->x = data::make_normalizer_view<float>(nx);
  norms->y = data::make_normalizer_view<float>(ny);

  ExecSpace exec;
  op::NormalizedModel model(exec, std::make_unique<Diagonal>(B, T, C * P, a), norms, B, T * C, C, P, true);
  const std::vector<float> x = normal_vector(std::size_t(B) * T * C * P, 2, 3.0, 2.0);
  const std::vector<float> dy = normal_vector(std::size_t(B) * C * P, 3, 0.0, 1.0);
  auto dx_ = test::to_device<ExecSpace>(x, "x"), ddy = test::to_device<ExecSpace>(dy, "dy");
  auto dy_ = test::to_device<ExecSpace>(std::vector<float>(std::size_t(B) * C * P), "y");
  auto ddx = test::to_device<ExecSpace>(std::vector<float>(x.size()), "dx");
  model.forward(exec, op::grid_batch<ExecSpace>(B), nullptr, dx_.data(), dy_.data());
  model.backward(exec, op::grid_batch<ExecSpace>(B), nullptr, ddy.data(), nullptr, ddx.data());
  const auto y = test::to_host(dy_), dx = test::to_host(ddx);

  // Closed forms in double, from the same float statistics the kernels read. Each output is a
  // few float operations on O(10) values: 1e-5 relative to the largest term is ample (a wrong
  // scale, channel or point index is off by O(1)).
  auto sx = [&](int c) { return double(static_cast<float>(nx.stddev()[c] + nx.eps())); };
  auto mx = [&](int c) { return double(static_cast<float>(nx.mean()[c])); };
  auto sy = [&](int c, index_t p) { return double(static_cast<float>(ny.stddev()[c * P + p] + ny.eps())); };
  auto my = [&](int c, index_t p) { return double(static_cast<float>(ny.mean()[c * P + p])); };
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c)
      for (index_t p = 0; p < P; ++p) {
        double inner = 0;
        for (int t = 0; t < T; ++t) inner += (x[((b * T + t) * C + c) * P + p] - mx(c)) / sx(c);
        const double want = a * inner * sy(c, p) + my(c, p);
        CHECK(y[(b * C + c) * P + p] == Approx(want).epsilon(1e-5).margin(1e-5 * std::abs(my(c, p))));
        for (int t = 0; t < T; ++t) {
          const double g = a * dy[(b * C + c) * P + p] * sy(c, p) / sx(c);
          CHECK(dx[((b * T + t) * C + c) * P + p] == Approx(g).epsilon(1e-5).margin(1e-7));
        }
      }
}

TEST_CASE("trainer: input noise perturbs training steps only, reproducibly", "[normalized_model]") {
  // Two trainers with the same seed and noise take identical steps (the noise is a function of the
  // seed and the step); a third without noise takes a different first step; evaluation is noise-free.
  ExecSpace exec;
  op::FnoCfg cfg;
  cfg.modes = {4};
  cfg.width = 4;
  cfg.layers = 1;
  cfg.projection = 8;
  op::AdamConfig adam;
  auto arch = std::make_shared<op::FnoArchitecture>(cfg);
  arch->bind(op::DataShape{cfg.in_channels, cfg.out_channels, {16}});
  op::Trainer a(exec, arch, adam, {16}, 5), b(exec, arch, adam, {16}, 5), c(exec, arch, adam, {16}, 5);
  a.set_input_noise(0.1);
  b.set_input_noise(0.1);
  const auto x = test::to_device<ExecSpace>(normal_vector(4 * 16, 7, 0.0, 1.0), "x");
  const auto y = test::to_device<ExecSpace>(normal_vector(4 * 16, 8, 0.0, 1.0), "y");
  const double ea = a.evaluate(exec, 4, x.data(), y.data(), nullptr);
  CHECK(ea == c.evaluate(exec, 4, x.data(), y.data(), nullptr));
  const double la = a.train_step(exec, 4, x.data(), y.data(), 1e-3);
  const double lb = b.train_step(exec, 4, x.data(), y.data(), 1e-3);
  const double lc = c.train_step(exec, 4, x.data(), y.data(), 1e-3);
  CHECK(la == lb);
  CHECK(la != lc);
  CHECK(test::to_host(a.params().values()) == test::to_host(b.params().values()));
  // Noise of 0.1 on unit inputs changes the loss by a few percent, not more.
  CHECK(std::abs(la - lc) < 0.2 * lc);
}
