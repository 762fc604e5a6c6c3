// The shared training pipeline on meshes ([mesh_pipeline]): the row losses (masked relative L2 per
// sample, masked and weighted MSE) against naive double sums with their gradients, the grid path
// of RowLoss unchanged, delta targets through NormalizedModel in the channel-last row layout, and
// the Trainer fitting a mesh transformer and a MeshGraphNet on a batch of two meshes.
#include "harness.hpp"
#include "mesh_fixtures.hpp"
#include "mesh/mesh.hpp"
#include "operators/batch.hpp"
#include "operators/graph_batch.hpp"
#include "operators/loss.hpp"
#include "operators/models/graph_models.hpp"
#include "operators/train/normalized_model.hpp"
#include "operators/train/trainer.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace surro;
using namespace surro::test::layers;

namespace mesh_pipeline_test {

using test::grid_mesh;

std::vector<float> floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// y (rows, C) = a * the last frame of x (rows, T C): an inner model whose forward and backward are
// known in closed form.
struct ScaleLast {
  float* y;
  const float* x;
  float a;
  index_t in_row, out_row;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t k) const {
    const index_t r = k / out_row, i = k % out_row;
    y[k] = a * x[r * in_row + in_row - out_row + i];
  }
};
struct ScaleLastBackward {
  float* dx;
  const float* dy;
  float a;
  index_t in_row, out_row;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t k) const {
    const index_t r = k / in_row, i = k % in_row;
    dx[k] = i >= in_row - out_row ? a * dy[r * out_row + i - (in_row - out_row)] : 0.0f;
  }
};

class LastFrameModel final : public op::Model<ExecSpace, float> {
 public:
  LastFrameModel(int frames, int channels, float a) : m_in(frames * channels), m_out(channels), m_a(a) {}
  void forward(const ExecSpace& exec, const op::Batch<ExecSpace>& batch, const float*, const float* x,
               float* y) override {
    Kokkos::parallel_for("test::last_frame::forward", Kokkos::RangePolicy<ExecSpace>(exec, 0, batch.rows() * m_out),
                         ScaleLast{y, x, m_a, m_in, m_out});
  }
  void backward(const ExecSpace& exec, const op::Batch<ExecSpace>& batch, const float*, const float* dy, float*,
                float* dx) override {
    if (dx)
      Kokkos::parallel_for("test::last_frame::backward",
                           Kokkos::RangePolicy<ExecSpace>(exec, 0, batch.rows() * m_in),
                           ScaleLastBackward{dx, dy, m_a, m_in, m_out});
  }

 private:
  index_t m_in, m_out;
  float m_a;
};

}  // namespace mesh_pipeline_test

using namespace mesh_pipeline_test;

TEST_CASE("row loss: masked relative L2 per mesh and weighted masked MSE match naive sums", "[mesh_pipeline]") {
  ExecSpace exec;
  const std::vector<mesh::Mesh> meshes = {grid_mesh(4, 4, 1), grid_mesh(5, 3, 2)};
  const op::HostGraphBatch host = op::build_host_graph_batch(meshes);
  op::GraphBatch<ExecSpace> graph(host.capacity());
  graph.upload(exec, host);
  const op::Batch<ExecSpace> batch = op::graph_batch(graph);
  const index_t V = host.nodes(), n = 3;
  const std::vector<double> p = random_vector(std::size_t(V * n), 3), t = random_vector(std::size_t(V * n), 4);
  const std::vector<double> w = {0.5, 2.0, 3.0};
  auto pd = test::to_device<ExecSpace>(floats(p), "p"), td = test::to_device<ExecSpace>(floats(t), "t");
  auto wd = test::to_device<ExecSpace>(floats(w), "w");
  View1<float> g("g", std::size_t(V * n));
  op::RowLoss<ExecSpace> loss(1);  // grows to the batch's two samples

  // Naive double sums over the predicted (NORMAL, OUTFLOW) nodes. Values are O(1) sums of at most
  // ~100 float products: 1e-5 relative is float round-off with a wide margin; a wrong mask, offset
  // or weight index changes the result by O(10%).
  auto kept = [&](index_t r) { return host.predicted[std::size_t(r)] != 0; };
  double rel = 0;
  std::vector<double> grad_rel(std::size_t(V * n), 0.0);
  for (int b = 0; b < 2; ++b) {
    double dd = 0, yy = 0;
    for (index_t r = host.node_offsets[b]; r < host.node_offsets[b + 1]; ++r)
      for (index_t i = 0; i < n; ++i)
        if (kept(r)) dd += std::pow(p[r * n + i] - t[r * n + i], 2), yy += t[r * n + i] * t[r * n + i];
    rel += std::sqrt(dd / yy);
    for (index_t r = host.node_offsets[b]; r < host.node_offsets[b + 1]; ++r)
      for (index_t i = 0; i < n; ++i)
        if (kept(r)) grad_rel[r * n + i] = (p[r * n + i] - t[r * n + i]) / (std::sqrt(dd) * std::sqrt(yy));
  }
  CHECK(loss.compute(exec, op::LossKind::rel_l2, batch, n, nullptr, pd.data(), td.data(), g.data()) ==
        Approx(rel).epsilon(1e-5));
  std::vector<float> gh = test::to_host(g);
  for (std::size_t k = 0; k < gh.size(); ++k) CHECK(gh[k] == Approx(grad_rel[k]).epsilon(1e-4).margin(1e-6));

  double mse = 0;
  index_t rows = 0;
  for (index_t r = 0; r < V; ++r)
    if (kept(r)) {
      ++rows;
      for (index_t i = 0; i < n; ++i) mse += w[i] * std::pow(p[r * n + i] - t[r * n + i], 2);
    }
  mse /= double(rows * n);
  CHECK(loss.compute(exec, op::LossKind::mse, batch, n, wd.data(), pd.data(), td.data(), g.data()) ==
        Approx(mse).epsilon(1e-5));
  gh = test::to_host(g);
  for (index_t r = 0; r < V; ++r)
    for (index_t i = 0; i < n; ++i) {
      const double want = kept(r) ? 2.0 * w[i] * (p[r * n + i] - t[r * n + i]) / double(rows * n) : 0.0;
      CHECK(gh[std::size_t(r * n + i)] == Approx(want).epsilon(1e-4).margin(1e-7));
    }

  // Grids (no mask, no weights) take the plain forms: identical values.
  const double plain = op::rel_l2_loss<ExecSpace, float>(exec, op::Reduction::sum, 3, 5, pd.data(), td.data(), nullptr);
  CHECK(loss.compute(exec, op::LossKind::rel_l2, op::grid_batch<ExecSpace>(3), 5, nullptr, pd.data(), td.data(),
                     nullptr) == plain);
}

TEST_CASE("normalized model: delta targets add the window's last frame, channel-last rows", "[mesh_pipeline]") {
  // Rows are mesh nodes (P = 1): x (V, T C), y (V, C); normalizers per channel over (rows, C, 1).
  const int T = 2, C = 3;
  const index_t V = 7;
  const float a = 0.5f;
  data::GaussianNormalizer nx(data::NormKind::channel, C, 1), ny(data::NormKind::channel, C, 1);
  const std::vector<float> fit = floats(random_vector(std::size_t(50) * C, 5, -3.0, 5.0));
  nx.accumulate(fit.data(), 50);
  ny.accumulate(fit.data(), 50);
  nx.finish();
  ny.finish();
  auto norms = std::make_shared<op::ModelNormalizers>();
  norms->x = data::make_normalizer_view<float>(nx);
  norms->y = data::make_normalizer_view<float>(ny);
  norms->delta = true;
  ExecSpace exec;
  op::NormalizedModel model(exec, std::make_unique<LastFrameModel>(T, C, a), norms, V, T * C, C, 1, true);
  const std::vector<float> x = floats(random_vector(std::size_t(V * T * C), 6, -2.0, 4.0));
  const std::vector<float> dy = floats(random_vector(std::size_t(V * C), 7));
  auto xd = test::to_device<ExecSpace>(x, "x"), dyd = test::to_device<ExecSpace>(dy, "dy");
  View1<float> yd("y", std::size_t(V * C)), dxd("dx", x.size());
  // A batch of V rows: a grid batch of V one-point samples has the same row layout.
  const op::Batch<ExecSpace> batch = op::grid_batch<ExecSpace>(int(V));
  model.forward(exec, batch, nullptr, xd.data(), yd.data());
  model.backward(exec, batch, nullptr, dyd.data(), nullptr, dxd.data());
  const std::vector<float> y = test::to_host(yd), dx = test::to_host(dxd);
  auto s = [](const data::GaussianNormalizer& g, int c) { return double(float(g.stddev()[c] + g.eps())); };
  auto m = [](const data::GaussianNormalizer& g, int c) { return double(float(g.mean()[c])); };
  for (index_t r = 0; r < V; ++r)
    for (int c = 0; c < C; ++c) {
      const double last = x[std::size_t(r * T * C + (T - 1) * C + c)];
      const double want = last + a * (last - m(nx, c)) / s(nx, c) * s(ny, c) + m(ny, c);
      CHECK(y[std::size_t(r * C + c)] == Approx(want).epsilon(1e-5).margin(1e-5));
      // dy/dx_last = 1 + a s_y / s_x; earlier frames get nothing.
      const double g = dy[std::size_t(r * C + c)] * (1.0 + a * s(ny, c) / s(nx, c));
      CHECK(dx[std::size_t(r * T * C + (T - 1) * C + c)] == Approx(g).epsilon(1e-5).margin(1e-6));
      CHECK(dx[std::size_t(r * T * C + c)] == 0.0f);
    }
}

namespace mesh_pipeline_test {

// Trains `arch` through the Trainer on one batch of two meshes (x = a smooth field, target =
// x + a smooth change) with delta targets and the normalized MSE; returns (first, last) loss.
std::pair<double, double> fit_meshes(std::shared_ptr<op::Architecture> arch, int steps) {
  ExecSpace exec;
  const std::vector<mesh::Mesh> meshes = {grid_mesh(5, 4, 1), grid_mesh(6, 4, 2)};
  const op::HostGraphBatch host = op::build_host_graph_batch(meshes, arch->graph_mask());
  op::GraphBatch<ExecSpace> graph(host.capacity());
  graph.upload(exec, host);
  const index_t V = host.nodes();
  std::vector<float> x(std::size_t(V * 2)), y(x.size());
  for (index_t v = 0; v < V; ++v) {
    const double px = host.positions[std::size_t(2 * v)], py = host.positions[std::size_t(2 * v + 1)];
    x[std::size_t(2 * v)] = float(std::sin(0.7 * px) + 0.3 * py);
    x[std::size_t(2 * v + 1)] = float(std::cos(0.5 * py) - 0.2 * px);
    y[std::size_t(2 * v)] = x[std::size_t(2 * v)] + float(0.1 * std::cos(px + py));
    y[std::size_t(2 * v + 1)] = x[std::size_t(2 * v + 1)] + float(0.05 * std::sin(px - py));
  }
  // Statistics of x and of the change, as the pipeline fits them.
  data::GaussianNormalizer nx(data::NormKind::channel, 2, 1), nd(data::NormKind::channel, 2, 1);
  std::vector<float> delta(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) delta[k] = y[k] - x[k];
  nx.accumulate(x.data(), V);
  nd.accumulate(delta.data(), V);
  nx.finish();
  nd.finish();
  auto norms = std::make_shared<op::ModelNormalizers>();
  norms->x = data::make_normalizer_view<float>(nx);
  norms->y = data::make_normalizer_view<float>(nd);
  norms->delta = true;
  op::DataShape shape;
  shape.in_channels = 2;
  shape.out_channels = 2;
  shape.mesh_dims = 2;
  arch->bind(shape);
  op::TrainOptions options;
  options.loss = op::LossKind::mse;
  options.normalized_loss = true;
  options.capacity = host.capacity();
  op::AdamConfig adam;
  adam.lr = 2e-3;
  op::Trainer trainer(exec, arch, adam, 11, norms, options);
  auto xd = test::to_device<ExecSpace>(x, "x"), yd = test::to_device<ExecSpace>(y, "y");
  const op::Batch<ExecSpace> batch = op::graph_batch(graph);
  const double first = trainer.evaluate(exec, batch, xd.data(), yd.data(), nullptr);
  for (int s = 0; s < steps; ++s) trainer.train_step(exec, batch, xd.data(), yd.data(), adam.lr);
  return {first, trainer.evaluate(exec, batch, xd.data(), yd.data(), nullptr)};
}

}  // namespace mesh_pipeline_test

TEST_CASE("trainer: a mesh transformer and a MeshGraphNet fit a batch of two meshes", "[mesh_pipeline]") {
  // At initialization the normalized-change MSE is O(1) (outputs O(1) against targets of unit
  // variance); a correct gradient through normalizers, delta targets, the mask and the model drives
  // it down by orders of magnitude in 150 Adam steps on one batch, a wrong one stalls near 1. We
  // require a factor of 20.
  op::MeshTransformerCfg t;
  t.dim = 16;
  t.heads = 2;
  t.layers = 2;
  op::MeshGraphNetCfg g;
  g.hidden = 16;
  g.blocks = 2;
  for (const bool transformer : {true, false}) {
    std::shared_ptr<op::Architecture> arch;
    if (transformer)
      arch = std::make_shared<op::MeshTransformerArchitecture>(t, op::MaskSpec::hops(2));
    else
      arch = std::make_shared<op::MeshGraphNetArchitecture>(g);
    const auto [first, last] = fit_meshes(arch, 150);
    INFO(arch->type() << ": loss " << first << " -> " << last);
    CHECK(first > 0.1);
    CHECK(last < first / 20);
  }
}
