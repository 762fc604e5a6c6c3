// The graph models on a GraphBatch: the batch's structure ([graph_batch]), and for the mesh
// transformer ([mesh_transformer]) and MeshGraphNet ([meshgraphnet]) the papers' parameter counts,
// finite-difference gradients of every parameter and the input in double on a batch of two small
// meshes, float against double, a batch of two meshes against each mesh alone, and a short Adam fit.
#include "core/error.hpp"
#include "harness.hpp"
#include "mesh_fixtures.hpp"
#include "mesh/mesh.hpp"
#include "operators/graph_batch.hpp"
#include "operators/models/mesh_transformer.hpp"
#include "operators/models/meshgraphnet.hpp"
#include "operators/optim/adam.hpp"
#include "operators/params.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>

using namespace surro;
using namespace surro::test::layers;

namespace graph_models_test {

using Vec = std::vector<double>;

using test::grid_mesh;

std::vector<mesh::Mesh> two_meshes() {
  return {grid_mesh(4, 4, 1), grid_mesh(5, 4, 2)};
}

}  // namespace graph_models_test

using namespace graph_models_test;

// ---------------------------------------------------------------- graph_batch

TEST_CASE("graph_batch: block-diagonal edges, 1-hop and k-hop masks, predicted nodes", "[graph_batch]") {
  const auto meshes = two_meshes();
  const op::HostGraphBatch b = op::build_host_graph_batch(meshes);
  REQUIRE(b.meshes() == 2);
  CHECK(b.node_offsets == std::vector<index_t>{0, 16, 36});
  const index_t e0 = index_t(mesh::unique_edges(meshes[0]).size() / 2);
  const index_t e1 = index_t(mesh::unique_edges(meshes[1]).size() / 2);
  CHECK(b.edges() == 2 * (e0 + e1));
  std::set<std::pair<int, int>> edges;
  for (index_t e = 0; e < b.edges(); ++e) {
    const int s = b.senders[e], r = b.receivers[e];
    CHECK(s != r);
    CHECK((s < 16) == (r < 16));  // no edge between the meshes
    edges.insert({r, s});
  }
  CHECK(index_t(edges.size()) == b.edges());
  for (const auto& e : edges) CHECK(edges.count({e.second, e.first}) == 1);  // both directions
  // 1-hop mask = the edges' pattern.
  REQUIRE(b.nnz() == b.edges());
  for (index_t i = 0; i < b.nodes(); ++i)
    for (index_t s = b.mask.offsets[i]; s < b.mask.offsets[i + 1]; ++s)
      CHECK(edges.count({int(i), b.mask.indices[s]}));
  // Predicted: NORMAL and OUTFLOW only.
  for (index_t i = 0; i < b.nodes(); ++i)
    CHECK(b.predicted[i] == ((b.node_type[i] == mesh::normal || b.node_type[i] == mesh::outflow) ? 1 : 0));
  // 2-hop mask of the batch = each mesh's k_hop, offset.
  const op::HostGraphBatch b2 = op::build_host_graph_batch(meshes, 2);
  const mesh::Csr k1 = mesh::k_hop(mesh::mesh_graph(meshes[1]).by_receiver, 2);
  CHECK(b2.nnz() > b.nnz());
  for (long long i = 0; i < k1.rows(); ++i) {
    const index_t row = 16 + i;
    REQUIRE(b2.mask.offsets[row + 1] - b2.mask.offsets[row] == k1.offsets[i + 1] - k1.offsets[i]);
    for (long long s = 0; s < k1.offsets[i + 1] - k1.offsets[i]; ++s)
      CHECK(b2.mask.indices[b2.mask.offsets[row] + s] == k1.indices[k1.offsets[i] + s] + 16);
  }
}

TEST_CASE("graph_batch: capacity planning and refusal", "[graph_batch]") {
  const auto meshes = two_meshes();
  const op::HostGraphBatch big = op::build_host_graph_batch(meshes);
  const op::HostGraphBatch small = op::build_host_graph_batch({meshes[0]});
  op::GraphBatch<HostExec> batch(small.capacity());
  batch.upload(HostExec(), small);
  CHECK(batch.nodes() == 16);
  try {
    batch.upload(HostExec(), big);
    FAIL("expected a refusal");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("2 meshes exceed the planned capacity of 1") != std::string::npos);
  }
  op::GraphBatch<HostExec> both(op::max_capacity(small.capacity(), big.capacity()));
  both.upload(HostExec(), big);
  both.upload(HostExec(), small);  // a smaller batch reuses the buffers
  CHECK(both.nodes() == 16);
  CHECK(both.mask().nnz == small.nnz());
  mesh::Mesh untyped = meshes[0];
  untyped.node_type.clear();
  CHECK_THROWS_WITH(op::build_host_graph_batch({meshes[0], untyped}), Catch::Contains("mesh 1: node_type"));
}

// The first n values behind a device pointer.
template <class Exec, class T>
std::vector<T> front(const T* p, std::size_t n) {
  Kokkos::View<T*, typename Exec::memory_space, Kokkos::MemoryUnmanaged> d(const_cast<T*>(p), n);
  Kokkos::View<T*, HostMem> h("front", n);
  Kokkos::deep_copy(h, d);
  return std::vector<T>(h.data(), h.data() + n);
}

TEMPLATE_LIST_TEST_CASE("graph_batch: the mask's long rows and columns and their tiles", "[graph_batch]",
                        test::ExecSpaces) {
  using Exec = TestType;
  // Three global nodes per mesh: on the 20 x 20 mesh their rows and columns hold 399 entries (two
  // tiles of kLongTile), on the 12 x 12 mesh 143 (one tile); the local rows are short.
  op::MaskSpec spec = op::MaskSpec::hops(1);
  spec.global_nodes = 3;
  const op::HostGraphBatch big =
      op::build_host_graph_batch({grid_mesh(20, 20, 3), grid_mesh(12, 12, 4)}, spec);
  const op::HostGraphBatch small = op::build_host_graph_batch({grid_mesh(12, 12, 4)}, spec);
  op::GraphBatch<Exec> batch(big.capacity());
  const op::MaskedAttentionCfg cfg{8, 2};
  View1<double, typename Exec::memory_space> scratch(
      "scratch", op::masked_attention_long_scratch(cfg, big.capacity().nodes, big.capacity().nnz));
  for (const op::HostGraphBatch* h : {&big, &small, &big}) {  // each upload replaces the lists
    batch.upload(Exec(), *h);
    const op::AttentionMask m = batch.mask();
    std::vector<int> rows, cols, row_tiles, col_tiles;
    op::long_rows_of(h->mask.offsets, op::kLongRow, rows);
    op::long_rows_of(h->mask_t.offsets, op::kLongRow, cols);
    op::long_tiles_of(h->mask.offsets, rows, op::kLongTile, row_tiles);
    op::long_tiles_of(h->mask_t.offsets, cols, op::kLongTile, col_tiles);
    REQUIRE(rows.size() == (h == &small ? 3u : 6u));
    REQUIRE(row_tiles.back() == (h == &small ? 3 : 9));
    REQUIRE((m.long_row == op::kLongRow && m.n_long_rows == index_t(rows.size()) &&
             m.n_long_cols == index_t(cols.size())));
    REQUIRE((m.n_row_tiles == row_tiles.back() && m.n_col_tiles == col_tiles.back()));
    // The long rows' and columns' entries: the tiled kernels' share of the profile's work.
    index_t row_nnz = 0, col_nnz = 0;
    for (const int r : rows) row_nnz += h->mask.offsets[r + 1] - h->mask.offsets[r];
    for (const int c : cols) col_nnz += h->mask_t.offsets[c + 1] - h->mask_t.offsets[c];
    CHECK((row_nnz > op::kLongRow * index_t(rows.size()) && m.long_row_nnz == row_nnz));
    CHECK((col_nnz > op::kLongRow * index_t(cols.size()) && m.long_col_nnz == col_nnz));
    CHECK(front<Exec>(m.long_rows, rows.size()) == rows);
    CHECK(front<Exec>(m.long_cols, cols.size()) == cols);
    CHECK(front<Exec>(m.long_row_tiles, row_tiles.size()) == row_tiles);
    CHECK(front<Exec>(m.long_col_tiles, col_tiles.size()) == col_tiles);
    REQUIRE(op::masked_attention_long_scratch(cfg, m) <= scratch.size());

    // Through attention, against the same mask without the lists (every row in the row kernels),
    // in double: sums of at most 399 terms, 8 u (Dh + 399 + 2).
    op::AttentionMask plain = m;
    plain.long_rows = plain.long_cols = plain.long_row_tiles = plain.long_col_tiles = nullptr;
    const std::size_t n = std::size_t(h->nodes()) * cfg.dim, nnzH = std::size_t(h->nnz()) * cfg.heads;
    std::vector<View1<double, typename Exec::memory_space>> in;
    for (unsigned seed : {21u, 22u, 23u, 24u})
      in.push_back(upload<Exec, double>(random_vector(n, seed), "in"));
    Vec got[2][4];  // (tiled, plain) x (o, dq, dk, dv)
    for (int t = 0; t < 2; ++t) {
      View1<double, typename Exec::memory_space> p("p", nnzH), ds("ds", nnzH), o("o", n), dq("dq", n),
          dk("dk", n), dv("dv", n);
      const op::AttentionMask& mk = t == 0 ? m : plain;
      op::masked_attention_forward(Exec(), cfg, mk, in[0].data(), in[1].data(), in[2].data(), p.data(),
                                   o.data(), scratch.data());
      op::masked_attention_backward(Exec(), cfg, mk, in[0].data(), in[1].data(), in[2].data(), p.data(),
                                    in[3].data(), ds.data(), dq.data(), dk.data(), dv.data(), scratch.data());
      Exec().fence();
      got[t][0] = download(o), got[t][1] = download(dq), got[t][2] = download(dk), got[t][3] = download(dv);
    }
    const double tol = 8 * test::epsilon<double>() * (cfg.head_dim() + 399 + 2);
    for (int a = 0; a < 4; ++a) CHECK(rel_l2(got[0][a], got[1][a]) <= 2 * tol);
  }
}

// ---------------------------------------------------------------- shared model runner

namespace graph_models_test {

// One model M<Exec, Real> on one batch; Traits gives the config's channel counts and init.
template <class Exec, class Real, class Model, class Cfg>
struct GraphRun {
  using mem = typename Exec::memory_space;
  Exec exec;
  op::GraphBatch<Exec> batch;
  Model model;
  std::size_t np, nx, ny;
  GraphRun(const Cfg& cfg, const op::ParamTable& table, const op::HostGraphBatch& host)
      : batch(host.capacity(), host.dim),
        model(exec, cfg, table, host.capacity()),
        np(table.size()),
        nx(std::size_t(host.nodes()) * cfg.in_channels),
        ny(std::size_t(host.nodes()) * cfg.out_channels) {
    batch.upload(exec, host);
  }
  // Runs another batch within the capacity through the same planned model and batch buffers.
  void rebatch(const op::HostGraphBatch& host) {
    batch.upload(exec, host);
    nx = std::size_t(host.nodes()) * model.cfg().in_channels;
    ny = std::size_t(host.nodes()) * model.cfg().out_channels;
  }
  Vec forward(const Vec& p, const Vec& x) {
    auto pv = upload<Exec, Real>(p, "p"), xv = upload<Exec, Real>(x, "x");
    View1<Real, mem> y("y", ny);
    model.forward(exec, pv.data(), batch, xv.data(), y.data());
    exec.fence();
    return download(y);
  }
  // (dparams net of the random values they were accumulated onto, dx) after forward(p, x).
  std::pair<Vec, Vec> backward(const Vec& p, const Vec& x, const Vec& dy) {
    auto pv = upload<Exec, Real>(p, "p"), xv = upload<Exec, Real>(x, "x"), dyv = upload<Exec, Real>(dy, "dy");
    View1<Real, mem> y("y", ny);
    model.forward(exec, pv.data(), batch, xv.data(), y.data());
    const Vec g0 = random_vector(np, 5);
    auto g = upload<Exec, Real>(g0, "g");
    auto dx = upload<Exec, Real>(Vec(nx, 1e30), "dx");
    model.backward(exec, pv.data(), batch, dyv.data(), g.data(), dx.data());
    exec.fence();
    Vec gp = download(g);
    for (std::size_t i = 0; i < np; ++i) gp[i] -= double(Real(g0[i]));
    return {gp, download(dx)};
  }
};

// Finite-difference check of every parameter and every input (harness.hpp's bound), double.
template <class Run>
void model_gradcheck(Run& run, const op::ParamTable& table, const Vec& p, const Vec& x) {
  const Vec r = random_vector(run.ny, 11);
  const auto [gp, gx] = run.backward(p, x, r);
  auto forward = [&](const std::vector<Vec>& v) { return run.forward(v[0], v[1]); };
  // Padding scalars of the flat table have gradient 0 and do not enter the forward: skip them by
  // checking the registered tensors only (their slots cover every used scalar).
  Vec vp, ap;
  for (const auto& s : table.slots())
    for (std::size_t i = 0; i < s.count; ++i) {
      vp.push_back(p[s.offset + i]);
      ap.push_back(gp[s.offset + i]);
    }
  auto forward_packed = [&](const std::vector<Vec>& v) {
    Vec full = p;
    std::size_t k = 0;
    for (const auto& s : table.slots())
      for (std::size_t i = 0; i < s.count; ++i) full[s.offset + i] = v[0][k++];
    return forward({full, v[1]});
  };
  gradcheck({vp, x}, forward_packed, r, {ap, gx}, {"params", "x"});
}

// Batch of both meshes == each mesh alone, for y and dx, to rounding: every kernel computes a node's
// row from that row's inputs and its own mesh's mask / edges only, but the BLAS GEMM picks its
// kernel path by the row count and alignment, so a row may round differently in a batch of another
// size (observed with OpenBLAS: float results differ in the last bit). Hence |diff| <= 64 eps max|.|;
// a leak between meshes would change the outputs at O(1).
template <class RunT, class Real, class Cfg>
void check_batch_equals_alone(const Cfg& cfg, const op::ParamTable& table, const Vec& p,
                              const op::MaskSpec& mask = op::MaskSpec{}) {
  const auto meshes = two_meshes();
  const op::HostGraphBatch both = op::build_host_graph_batch(meshes, mask);
  RunT run(cfg, table, both);
  const Vec x = random_vector(run.nx, 3);
  const Vec dy = random_vector(run.ny, 4);
  const Vec y = run.forward(p, x);
  const Vec dx = run.backward(p, x, dy).second;
  std::size_t first = 0;
  for (std::size_t m = 0; m < meshes.size(); ++m) {
    RunT alone(cfg, table, op::build_host_graph_batch({meshes[m]}, mask));
    const std::size_t vi = alone.nx / cfg.in_channels, vo = alone.ny / cfg.out_channels;
    REQUIRE(vi == vo);
    const Vec xm(x.begin() + first * cfg.in_channels, x.begin() + (first + vi) * cfg.in_channels);
    const Vec dym(dy.begin() + first * cfg.out_channels, dy.begin() + (first + vi) * cfg.out_channels);
    const Vec ym = alone.forward(p, xm);
    const Vec dxm = alone.backward(p, xm, dym).second;
    const Vec yb(y.begin() + first * cfg.out_channels, y.begin() + (first + vi) * cfg.out_channels);
    const Vec dxb(dx.begin() + first * cfg.in_channels, dx.begin() + (first + vi) * cfg.in_channels);
    INFO("mesh " << m);
    const double eps = std::numeric_limits<Real>::epsilon();
    for (std::size_t i = 0; i < ym.size(); ++i) CHECK(std::abs(ym[i] - yb[i]) <= 64 * eps * max_abs(yb));
    for (std::size_t i = 0; i < dxm.size(); ++i) CHECK(std::abs(dxm[i] - dxb[i]) <= 64 * eps * max_abs(dxb));
    // The same mesh through the instance planned for both (capacity reuse) gives the alone result:
    // the same rows at the same offsets, so bitwise.
    RunT reused(cfg, table, both);
    reused.rebatch(op::build_host_graph_batch({meshes[m]}, mask));
    CHECK(reused.forward(p, xm) == ym);
    CHECK(reused.backward(p, xm, dym).second == dxm);
    first += vi;
  }
}

// An instance planned with training = false: it plans less than half of the training instance,
// its forward is the training forward bitwise (the same kernels in the same order on other
// buffers), and its backward refuses.
template <class RunT, class Net, class Cfg>
void check_inference_instance(const Cfg& c, const op::ParamTable& table, const Vec& p,
                              const op::HostGraphBatch& host) {
  using Exec = decltype(RunT::exec);
  using mem = typename Exec::memory_space;
  RunT train(c, table, host);
  const Exec exec;
  Net infer(exec, c, table, host.capacity(), false);
  CHECK(train.model.training());
  CHECK(!infer.training());
  CHECK(infer.planned_scalars() * 2 < train.model.planned_scalars());
  const Vec x = random_vector(train.nx, 3);
  auto pv = upload<Exec, double>(p, "p"), xv = upload<Exec, double>(x, "x");
  View1<double, mem> y("y", train.ny), g("g", table.size()), dy("dy", train.ny);
  infer.forward(exec, pv.data(), train.batch, xv.data(), y.data());
  exec.fence();
  CHECK(download(y) == train.forward(p, x));
  CHECK_THROWS_WITH(infer.backward(exec, pv.data(), train.batch, dy.data(), g.data(), nullptr),
                    Catch::Contains("planned for inference"));
}

// steps Adam updates (lr) of MSE(y, target) on one fixed (x, target) in float; returns (first, last) loss.
template <class Exec, class Model, class Cfg>
std::pair<double, double> tiny_fit(const Cfg& cfg, const op::ParamTable& table, const Vec& p0, int steps,
                                   double lr) {
  using mem = typename Exec::memory_space;
  const Exec exec;
  const op::HostGraphBatch host = op::build_host_graph_batch(two_meshes());
  op::GraphBatch<Exec> batch(host.capacity());
  batch.upload(exec, host);
  Model model(exec, cfg, table, host.capacity());
  const std::size_t nx = std::size_t(host.nodes()) * cfg.in_channels,
                    ny = std::size_t(host.nodes()) * cfg.out_channels;
  auto x = upload<Exec, float>(random_vector(nx, 21), "x");
  const Vec target = random_vector(ny, 22, -0.5, 0.5);
  op::FlatParams<float, mem> params(table, "p"), grads(table, "g");
  Kokkos::deep_copy(params.values(), upload<Exec, float>(p0, "p0"));
  op::AdamConfig ac;
  ac.lr = lr;
  op::Adam<Exec> adam(table, ac);
  View1<float, mem> y("y", ny), dy("dy", ny);
  double first = 0, last = 0;
  for (int s = 0; s <= steps; ++s) {
    model.forward(exec, params.values().data(), batch, x.data(), y.data());
    exec.fence();
    const Vec yh = download(y);
    Vec d(ny);
    double loss = 0;
    for (std::size_t i = 0; i < ny; ++i) {
      loss += (yh[i] - target[i]) * (yh[i] - target[i]) / ny;
      d[i] = 2 * (yh[i] - target[i]) / ny;
    }
    if (s == 0) first = loss;
    last = loss;
    if (s == steps) break;
    Kokkos::deep_copy(dy, upload<Exec, float>(d, "d"));
    Kokkos::deep_copy(grads.values(), 0.0f);
    model.backward(exec, params.values().data(), batch, dy.data(), grads.values().data(), nullptr);
    adam.step(exec, params, grads, lr);
  }
  return {first, last};
}

// ---------------------------------------------------------------- mesh transformer

op::MeshTransformerCfg tiny_transformer() {
  op::MeshTransformerCfg c;
  c.in_channels = 2;
  c.out_channels = 2;
  c.dim = 8;
  c.heads = 2;
  c.layers = 2;
  return c;
}

template <class Exec, class Real>
using TransformerRun = GraphRun<Exec, Real, op::MeshTransformer<Exec, Real>, op::MeshTransformerCfg>;

template <class Exec, class Real>
Vec transformer_params(const op::MeshTransformerCfg& c, const op::ParamTable& table) {
  View1<Real, typename Exec::memory_space> p("p", table.size());
  op::mesh_transformer_init(Exec(), c, table, p.data(), 7);
  Exec().fence();
  return download(p);
}

}  // namespace graph_models_test

TEST_CASE("mesh_transformer: parameter counts match 6d^2 + 21d + 2 + L (13d^2 + 14d)", "[mesh_transformer]") {
  struct Size {
    int d, L;
    std::size_t want;
  };
  for (const Size s : {Size{32, 5, 75618}, Size{64, 10, 567362}, Size{128, 15, 3322754}}) {
    op::MeshTransformerCfg c;
    c.dim = s.d;
    c.layers = s.L;
    op::ParamTable t;
    op::mesh_transformer_register(t, c);
    const std::size_t d = s.d, L = s.L;
    CHECK(t.parameter_count() == s.want);
    CHECK(t.parameter_count() == 6 * d * d + 21 * d + 2 + L * (13 * d * d + 14 * d));
  }
  op::MeshTransformerCfg bad;
  bad.heads = 3;
  op::ParamTable t;
  CHECK_THROWS_WITH(op::mesh_transformer_register(t, bad),
                    Catch::Contains("expected a divisor of dim = 128"));
}

TEMPLATE_LIST_TEST_CASE("mesh_transformer: finite-difference gradients of every parameter and the input",
                        "[mesh_transformer]", test::ExecSpaces) {
  using Exec = TestType;
  for (const op::HeadLayout layout : {op::HeadLayout::interleaved, op::HeadLayout::blocked}) {
    op::MeshTransformerCfg c = tiny_transformer();
    c.layout = layout;
    op::ParamTable table;
    op::mesh_transformer_register(table, c);
    const Vec p = transformer_params<Exec, double>(c, table);
    TransformerRun<Exec, double> run(c, table, op::build_host_graph_batch(two_meshes()));
    model_gradcheck(run, table, p, random_vector(run.nx, 3));
  }
}

TEMPLATE_LIST_TEST_CASE(
    "mesh_transformer with rope: finite differences; translating the meshes changes nothing",
    "[mesh_transformer]", test::ExecSpaces) {
  using Exec = TestType;
  for (const op::HeadLayout layout : {op::HeadLayout::interleaved, op::HeadLayout::blocked}) {
    op::MeshTransformerCfg c = tiny_transformer();
    c.dim = 16;  // Dh 8: two rotated pairs per axis (frequencies 1 and 16)
    c.layout = layout;
    c.rope = true;
    c.rope_length = 1.5;
    c.rope_max_freq = 16;
    op::ParamTable table;
    op::mesh_transformer_register(table, c);
    const Vec p = transformer_params<Exec, double>(c, table);
    const auto meshes = two_meshes();
    TransformerRun<Exec, double> run(c, table, op::build_host_graph_batch(meshes));
    const Vec x = random_vector(run.nx, 3);
    model_gradcheck(run, table, p, x);
    // Scores depend on position differences only, so a common shift of every node is invisible
    // (angles change by up to 16 pi 2.3 / 1.5 rad: double rounding of ~1e-14 through the layers).
    auto shifted = meshes;
    for (auto& m : shifted)
      for (std::size_t i = 0; i < m.points.size(); ++i) m.points[i] += i % 2 ? -0.8 : 2.3;
    TransformerRun<Exec, double> moved(c, table, op::build_host_graph_batch(shifted));
    const Vec y = run.forward(p, x);
    CHECK(rel_l2(moved.forward(p, x), y) <= 1e-11);
    // Without rope the positions never enter; with it they do.
    op::MeshTransformerCfg plain = c;
    plain.rope = false;
    TransformerRun<Exec, double> no_rope(plain, table, op::build_host_graph_batch(meshes));
    CHECK(rel_l2(no_rope.forward(p, x), y) > 1e-3);
  }
}

TEMPLATE_LIST_TEST_CASE(
    "mesh_transformer: finite differences, batch = each mesh alone, with a dilated + global mask",
    "[attention_masks]", test::ExecSpaces) {
  using Exec = TestType;
  // d 2, r 4 and 2 global nodes per mesh: the global rows are full (15 and 19 entries), so the
  // softmax runs over rows of very different lengths.
  const op::MaskSpec mask = op::MaskSpec::dilated(2, 4, 2);
  const op::MeshTransformerCfg c = tiny_transformer();
  op::ParamTable table;
  op::mesh_transformer_register(table, c);
  const Vec p = transformer_params<Exec, double>(c, table);
  const op::HostGraphBatch host = op::build_host_graph_batch(two_meshes(), mask);
  REQUIRE(host.nnz() > op::build_host_graph_batch(two_meshes(), 2).nnz());
  TransformerRun<Exec, double> run(c, table, host);
  model_gradcheck(run, table, p, random_vector(run.nx, 3));
  // The global rows stay within their mesh: a batch equals each mesh alone.
  check_batch_equals_alone<TransformerRun<Exec, double>, double>(c, table, p, mask);
}

TEMPLATE_LIST_TEST_CASE("mesh_transformer: float agrees with double; a batch equals each mesh alone",
                        "[mesh_transformer]", test::ExecSpaces) {
  using Exec = TestType;
  const op::MeshTransformerCfg c = tiny_transformer();
  op::ParamTable table;
  op::mesh_transformer_register(table, c);
  const Vec p = transformer_params<Exec, double>(c, table);
  const op::HostGraphBatch host = op::build_host_graph_batch(two_meshes());
  TransformerRun<Exec, double> rd(c, table, host);
  TransformerRun<Exec, float> rf(c, table, host);
  const Vec x = random_vector(rd.nx, 3);
  // float rounding: each output is a chain of ~20 layers of sums of at most 3d = 24 terms; a
  // relative error of a few hundred float epsilons (6e-8) bounds it.
  CHECK(rel_l2(rf.forward(p, x), rd.forward(p, x)) <= 1e-5);
  check_batch_equals_alone<TransformerRun<Exec, double>, double>(c, table, p);
  check_batch_equals_alone<TransformerRun<Exec, float>, float>(c, table, p);
}

TEMPLATE_LIST_TEST_CASE(
    "mesh_transformer: an inference instance gives the training forward, plans less, refuses backward",
    "[mesh_transformer]", test::ExecSpaces) {
  using Exec = TestType;
  const op::MeshTransformerCfg c = tiny_transformer();
  op::ParamTable table;
  op::mesh_transformer_register(table, c);
  // Training keeps 2L + 1 streams, every block's activations and backward's scratch; inference two
  // streams and one block's buffers (for L = 2 less than half).
  check_inference_instance<TransformerRun<Exec, double>, op::MeshTransformer<Exec, double>>(
      c, table, transformer_params<Exec, double>(c, table),
      op::build_host_graph_batch(two_meshes(), op::MaskSpec::hops(2)));
}

TEMPLATE_LIST_TEST_CASE("mesh_transformer: Adam fits one input/target pair", "[mesh_transformer]",
                        test::ExecSpaces) {
  using Exec = TestType;
  op::MeshTransformerCfg c = tiny_transformer();
  c.dim = 16;
  op::ParamTable table;
  op::mesh_transformer_register(table, c);
  const Vec p = transformer_params<Exec, float>(c, table);
  const auto [first, last] = tiny_fit<Exec, op::MeshTransformer<Exec, float>>(c, table, p, 300, 3e-3);
  INFO("MSE " << first << " -> " << last);
  CHECK(last < first / 100);
}

// ---------------------------------------------------------------- MeshGraphNet

namespace graph_models_test {

op::MeshGraphNetCfg tiny_mgn() {
  op::MeshGraphNetCfg c;
  c.in_channels = 2;
  c.out_channels = 2;
  c.hidden = 8;
  c.blocks = 2;
  return c;
}

template <class Exec, class Real>
using MgnRun = GraphRun<Exec, Real, op::MeshGraphNet<Exec, Real>, op::MeshGraphNetCfg>;

template <class Exec, class Real>
Vec mgn_params(const op::MeshGraphNetCfg& c, const op::ParamTable& table) {
  View1<Real, typename Exec::memory_space> p("p", table.size());
  op::meshgraphnet_init(Exec(), c, table, p.data(), 7);
  Exec().fence();
  // LayerNorm starts at gamma 1, beta 0 (a special point); perturb every parameter by up to 0.1 so
  // the check runs at generic values.
  Vec v = download(p);
  const Vec noise = random_vector(v.size(), 8, -0.1, 0.1);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] += noise[i];
  return v;
}

}  // namespace graph_models_test

TEST_CASE("meshgraphnet: DeepMind's CylinderFlow configuration has 2,332,930 parameters", "[meshgraphnet]") {
  op::MeshGraphNetCfg c;  // defaults: Cin 2 (+ 9 one-hot), Cout 2, 2D (3 edge inputs), H 128, 15 blocks
  op::ParamTable t;
  op::meshgraphnet_register(t, c);
  CHECK(t.parameter_count() == 2332930);
  CHECK(t.has("meshgraphnet.block14.edge.linear0.weight"));
  CHECK(t.slot("meshgraphnet.block0.edge.linear0.weight").shape == std::vector<int>{128, 384});
  CHECK(t.slot("meshgraphnet.encoder.edge.linear0.weight").shape == std::vector<int>{128, 3});
  CHECK(!t.has("meshgraphnet.decoder.norm.weight"));
  op::MeshGraphNetCfg bad;
  bad.dims = 4;
  CHECK_THROWS_WITH(op::meshgraphnet_register(t, bad), Catch::Contains("dims = 4: expected 2 or 3"));
}

TEMPLATE_LIST_TEST_CASE("meshgraphnet: finite-difference gradients of every parameter and the input",
                        "[meshgraphnet]", test::ExecSpaces) {
  using Exec = TestType;
  const op::MeshGraphNetCfg c = tiny_mgn();
  op::ParamTable table;
  op::meshgraphnet_register(table, c);
  const Vec p = mgn_params<Exec, double>(c, table);
  MgnRun<Exec, double> run(c, table, op::build_host_graph_batch(two_meshes()));
  model_gradcheck(run, table, p, random_vector(run.nx, 3));
}

TEMPLATE_LIST_TEST_CASE("meshgraphnet: float agrees with double; a batch equals each mesh alone",
                        "[meshgraphnet]", test::ExecSpaces) {
  using Exec = TestType;
  const op::MeshGraphNetCfg c = tiny_mgn();
  op::ParamTable table;
  op::meshgraphnet_register(table, c);
  const Vec p = mgn_params<Exec, double>(c, table);
  const op::HostGraphBatch host = op::build_host_graph_batch(two_meshes());
  MgnRun<Exec, double> rd(c, table, host);
  MgnRun<Exec, float> rf(c, table, host);
  const Vec x = random_vector(rd.nx, 3);
  // float rounding through ~25 layers of sums of at most 3H = 24 terms (and up to 8 edge messages).
  CHECK(rel_l2(rf.forward(p, x), rd.forward(p, x)) <= 1e-5);
  check_batch_equals_alone<MgnRun<Exec, double>, double>(c, table, p);
  check_batch_equals_alone<MgnRun<Exec, float>, float>(c, table, p);
}

TEMPLATE_LIST_TEST_CASE("meshgraphnet: MLPs of one or no hidden layer; gradients by finite differences",
                        "[meshgraphnet]", test::ExecSpaces) {
  // The edge MLP's first layer is computed by the model itself (node-level products); with no hidden
  // layer it is also the last (no ReLU, written straight to the LayerNorm's input).
  using Exec = TestType;
  for (int hidden_layers : {0, 1}) {
    op::MeshGraphNetCfg c = tiny_mgn();
    c.hidden_layers = hidden_layers;
    op::ParamTable table;
    op::meshgraphnet_register(table, c);
    const Vec p = mgn_params<Exec, double>(c, table);
    MgnRun<Exec, double> run(c, table, op::build_host_graph_batch(two_meshes()));
    INFO("hidden_layers " << hidden_layers);
    model_gradcheck(run, table, p, random_vector(run.nx, 3));
  }
}

TEMPLATE_LIST_TEST_CASE(
    "meshgraphnet: an inference instance gives the training forward, plans less, refuses "
    "backward",
    "[meshgraphnet]", test::ExecSpaces) {
  using Exec = TestType;
  const op::MeshGraphNetCfg c = tiny_mgn();
  op::ParamTable table;
  op::meshgraphnet_register(table, c);
  // Per block, training saves the streams, MLP activations and pre-norm inputs; inference shares one set.
  check_inference_instance<MgnRun<Exec, double>, op::MeshGraphNet<Exec, double>>(
      c, table, mgn_params<Exec, double>(c, table), op::build_host_graph_batch(two_meshes()));
}

TEMPLATE_LIST_TEST_CASE(
    "meshgraphnet: the edge normalizer equals its statistics folded into the first edge layer",
    "[meshgraphnet]", test::ExecSpaces) {
  // The encoder's first edge layer is affine, W ((f - m) / s) + b = (W / s) f + (b - W (m / s)), so
  // the normalized model with params p is the raw model with those folded params, to rounding.
  using Exec = TestType;
  const op::MeshGraphNetCfg c = tiny_mgn();
  op::ParamTable table;
  op::meshgraphnet_register(table, c);
  const Vec p = mgn_params<Exec, double>(c, table);
  const op::HostGraphBatch host = op::build_host_graph_batch(two_meshes());
  const Vec mean = {0.3, -0.2, 0.5}, scale = {0.7, 1.9, 0.4};  // (dims + 1)
  const auto mv = upload<Exec, double>(mean, "mean"), sv = upload<Exec, double>(scale, "scale");
  MgnRun<Exec, double> normed(c, table, host), raw(c, table, host);
  normed.model.set_edge_normalizer(mv.data(), sv.data(), 3);
  const auto& w = table.slot("meshgraphnet.encoder.edge.linear0.weight");  // (H, 3)
  const auto& b = table.slot("meshgraphnet.encoder.edge.linear0.bias");    // (H)
  Vec folded = p;
  for (int h = 0; h < c.hidden; ++h)
    for (int k = 0; k < 3; ++k) {
      const double wk = p[w.offset + std::size_t(h) * 3 + k];
      folded[w.offset + std::size_t(h) * 3 + k] = wk / scale[k];
      folded[b.offset + std::size_t(h)] -= wk * mean[k] / scale[k];
    }
  const Vec x = random_vector(normed.nx, 3);
  CHECK(rel_l2(normed.forward(p, x), raw.forward(folded, x)) <= 1e-12);
  CHECK(rel_l2(normed.forward(p, x), raw.forward(p, x)) > 1e-3);  // the statistics matter
  model_gradcheck(normed, table, p, x);
  CHECK_THROWS_WITH(raw.model.set_edge_normalizer(mv.data(), sv.data(), 2),
                    Catch::Contains("expected dims + 1 = 3"));
}

TEMPLATE_LIST_TEST_CASE("meshgraphnet: Adam fits one input/target pair", "[meshgraphnet]", test::ExecSpaces) {
  using Exec = TestType;
  op::MeshGraphNetCfg c = tiny_mgn();
  c.hidden = 16;
  op::ParamTable table;
  op::meshgraphnet_register(table, c);
  View1<float, typename Exec::memory_space> pv("p", table.size());
  op::meshgraphnet_init(Exec(), c, table, pv.data(), 7);
  const auto [first, last] = tiny_fit<Exec, op::MeshGraphNet<Exec, float>>(c, table, download(pv), 300, 3e-3);
  INFO("MSE " << first << " -> " << last);
  CHECK(last < first / 100);
}
