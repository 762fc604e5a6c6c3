// The shared loader on mesh datasets: a split of trajectories on meshes of different sizes read into
// channel-last host frames, every window row placed where the documented layout says, node offsets
// and max_rows, the epoch order of the grid rules, normalizers (values and frame changes) against a
// naive double computation (and the stats.yaml writer), the block-diagonal concatenation of graph batches
// against a batch built at once, and a split that mixes layouts. Every stored value encodes (trajectory,
// time, channel, node) in a small integer (exact in float), so each placement is checked by equality.
#include "core/error.hpp"
#include "datasets/loader.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/well.hpp"
#include "operators/graph_batch.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>
#include <utility>

using namespace surro;
using namespace surro::data;
namespace fs = std::filesystem;

namespace {

constexpr int kMeshFrames = 6;        // recorded times
constexpr int kMeshTrajectories = 3;  // trajectories

// A structured triangulation of [0, nx] x [0, ny]: (nx + 1)(ny + 1) nodes, two triangles per square,
// node types: left inflow, right outflow, bottom/top wall, interior normal.
mesh::Mesh grid_mesh(int nx, int ny) {
  mesh::Mesh m;
  m.dim = 2;
  auto id = [&](int i, int j) { return j * (nx + 1) + i; };
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i <= nx; ++i) {
      m.points.push_back(i);
      m.points.push_back(0.5 * j);
      int t = mesh::normal;
      if (j == 0 || j == ny) t = mesh::wall;
      if (i == 0) t = mesh::inflow;
      if (i == nx) t = mesh::outflow;
      m.node_type.push_back(t);
    }
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j), id(i + 1, j + 1)});
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j + 1), id(i, j + 1)});
    }
  return m;
}

// Trajectory s's mesh: 12, 20 and 9 nodes (all different, the largest in the middle).
mesh::Mesh traj_mesh(int s) {
  return s == 0 ? grid_mesh(3, 2) : s == 1 ? grid_mesh(4, 3) : grid_mesh(2, 2);
}

// The file's fields, in file order: velocity (2 components) and pressure vary in time, sdf does not.
DatasetSpec mesh_spec() {
  DatasetSpec s;
  s.dataset_name = "mesh_loader_test";
  s.on_mesh = true;
  s.dims = {"x", "y"};
  for (int t = 0; t < kMeshFrames; ++t) s.times.push_back(0.1 * t);
  s.fields = {{"pressure", true, 1}, {"sdf", false, 1}, {"velocity", true, 2}};
  s.parameters = {{"density", 1.0}};
  return s;
}

// Component k of field `name` at node v of trajectory s, time t: distinct integers below 2^24,
// quadratic in t so that frame changes vary (a constant field ignores t and uses t = 0).
float value(int s, int t, const std::string& name, int k, int v) {
  const int id = name == "velocity" ? k : name == "pressure" ? 2 : 3;
  const int tt = name == "sdf" ? 0 : t;
  return static_cast<float>(100000 * s + 1000 * tt * tt + 100 * id + v);
}

// Trajectories [first, first + count) with fields laid out as spec.hpp says for meshes.
Block mesh_block(const DatasetSpec& spec, int first, int count) {
  Block b;
  b.first = first;
  b.count = count;
  for (int s = first; s < first + count; ++s) {
    b.meshes.push_back(traj_mesh(s));
    b.sample_parameters["reynolds"].push_back(20.0 + 10 * s);
    b.sample_parameters["viscosity"].push_back(1e-3 * (s + 1));
  }
  for (const auto& f : spec.fields) {
    auto& out = b.fields[f.name];
    for (int s = first; s < first + count; ++s) {
      const int V = static_cast<int>(traj_mesh(s).num_points());
      for (int t = 0; t < (f.time_varying ? kMeshFrames : 1); ++t)
        for (int v = 0; v < V; ++v)
          for (int k = 0; k < f.components; ++k) out.push_back(value(s, t, f.name, k, v));
    }
  }
  return b;
}

fs::path fresh_split(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("surro_test_mesh_loader_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir / "data" / "train");
  return dir;
}

// Two files: trajectories 0-1 and 2.
fs::path make_mesh_dataset(const std::string& name) {
  const fs::path dir = fresh_split(name);
  const DatasetSpec spec = mesh_spec();
  write_mesh_file((dir / "data" / "train" / "cyl_0001.hdf5").string(), spec, mesh_block(spec, 2, 1));
  write_mesh_file((dir / "data" / "train" / "cyl_0000.hdf5").string(), spec, mesh_block(spec, 0, 2));
  return dir;
}

// The requested order (not the file's): channels velocity_x, velocity_y, pressure, sdf.
const std::vector<std::string> kFields = {"velocity", "pressure", "sdf"};
constexpr int C = 4;

// Channel c of the store above at node v of trajectory s, time t.
float stored(int s, int t, int c, int v) {
  return c < 2 ? value(s, t, "velocity", c, v) : value(s, t, c == 2 ? "pressure" : "sdf", 0, v);
}

// A grid store of S trajectories and T frames (for the order and grid-offset comparisons).
TrajectoryStore grid_store() {
  DatasetSpec spec;
  spec.dataset_name = "grid_test";
  spec.dims = {"x"};
  spec.coords = {{0.0, 0.5, 1.0}};
  spec.boundaries = {Boundary::periodic};
  for (int t = 0; t < kMeshFrames; ++t) spec.times.push_back(0.1 * t);
  spec.fields = {{"u", true}};
  Block b;
  b.count = kMeshTrajectories;
  for (int s = 0; s < kMeshTrajectories; ++s)
    for (int t = 0; t < kMeshFrames; ++t)
      for (int p = 0; p < 3; ++p) b.fields["u"].push_back(static_cast<float>(s * 100 + t * t * 10 + p));
  return store_from_block(spec, b, {"u"}, "grid block");
}

// Mean and population (ddof 0) or unbiased (ddof 1) std of a list, in double, the textbook way.
std::pair<double, double> naive_stats(const std::vector<double>& xs, double ddof) {
  double sum = 0;
  for (double x : xs) sum += x;
  const double mean = sum / xs.size();
  double ss = 0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / (xs.size() - ddof))};
}

void require_same(const op::HostCsr& a, const op::HostCsr& b) {
  REQUIRE(a.offsets == b.offsets);
  REQUIRE(a.indices == b.indices);
}

void require_same(const op::HostGraphBatch& a, const op::HostGraphBatch& b) {
  REQUIRE(a.dim == b.dim);
  REQUIRE(a.mask_spec == b.mask_spec);
  REQUIRE(a.node_offsets == b.node_offsets);
  REQUIRE(a.node_type == b.node_type);
  REQUIRE(a.positions == b.positions);
  REQUIRE(a.predicted == b.predicted);
  REQUIRE(a.senders == b.senders);
  REQUIRE(a.receivers == b.receivers);
  require_same(a.out_edges, b.out_edges);
  require_same(a.in_edges, b.in_edges);
  require_same(a.mask, b.mask);
  require_same(a.mask_t, b.mask_t);
  REQUIRE(a.mask_perm == b.mask_perm);
}

}  // namespace

TEST_CASE("mesh loader: a mesh split in host memory, channel-last (T, V_s, C), field-major channels",
          "[mesh_loader]") {
  const fs::path dir = make_mesh_dataset("store");
  const TrajectoryStore store = load_split(dir.string(), "train", kFields);
  REQUIRE(store.on_mesh());
  REQUIRE(store.trajectories() == kMeshTrajectories);
  CHECK(store.frames() == kMeshFrames);
  CHECK(store.channels() == C);
  CHECK(store.components() == std::vector<int>{2, 1, 1});
  CHECK(store.channel("velocity") == 0);
  CHECK(store.channel("pressure") == 2);
  CHECK(store.channel("sdf") == 3);
  CHECK(store.grid().empty());
  CHECK(store.points() == 20);  // the largest mesh
  CHECK(store.times() == mesh_spec().times);
  REQUIRE(store.files().size() == 2);
  CHECK(fs::path(store.files()[0]).filename() == "cyl_0000.hdf5");
  for (int s = 0; s < kMeshTrajectories; ++s) {
    const mesh::Mesh m = traj_mesh(s);
    REQUIRE(store.points(s) == m.num_points());
    CHECK(store.mesh(s).points == m.points);
    CHECK(store.mesh(s).cells == m.cells);
    CHECK(store.mesh(s).node_type == m.node_type);
    CHECK(store.sample_parameter("reynolds", s) == 20.0 + 10 * s);
    CHECK(store.sample_parameter("viscosity", s) == 1e-3 * (s + 1));
    for (int t = 0; t < kMeshFrames; ++t)
      for (int v = 0; v < m.num_points(); ++v)
        for (int c = 0; c < C; ++c)
          REQUIRE(store.frame(s, t)[v * C + c] == stored(s, t, c, v));  // sdf repeats
  }
  test::require_error([&] { store.sample_parameter("radius", 0); }, ErrorKind::usage, "reynolds, viscosity");
  test::require_error([&] { store.sample_parameter("radius", 0); }, ErrorKind::usage, "radius");
  test::require_error([&] { store.mesh(kMeshTrajectories); }, ErrorKind::usage, "mesh(3)");
  test::require_error([&] { grid_store().mesh(0); }, ErrorKind::usage, "grid");

  // The same trajectories from memory (a solver's block) give the same store.
  const DatasetSpec spec = mesh_spec();
  const TrajectoryStore mem =
      store_from_block(spec, mesh_block(spec, 0, kMeshTrajectories), kFields, "block");
  REQUIRE(mem.trajectories() == kMeshTrajectories);
  for (int s = 0; s < kMeshTrajectories; ++s)
    for (int t = 0; t < kMeshFrames; ++t)
      REQUIRE(std::equal(mem.frame(s, t), mem.frame(s, t) + store.points(s) * C, store.frame(s, t)));
}

TEMPLATE_LIST_TEST_CASE("mesh loader: every window row holds the documented node values", "[mesh_loader]",
                        test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const fs::path dir = make_mesh_dataset("windows");
  const TrajectoryStore store = load_split(dir.string(), "train", kFields);
  const TrajectoryStore grid = grid_store();
  const std::vector<index_t> V = {12, 20, 9};

  struct Case {
    WindowSpec w;
    int batch, per;  // windows per trajectory, counted by hand
    index_t rows;    // max_rows(batch), by hand
    bool drop_last;
  };
  // T = 6: a window of 3 fits at t0 = 0..3 (4 per trajectory), with stride 2 at 0, 2.
  const std::vector<Case> cases = {{{2, 1, true, 1}, 2, 4, 40, false},   // 20 + 20: one mesh twice
                                   {{2, 1, false, 1}, 2, 1, 32, false},  // 20 + 12: one window each
                                   {{2, 1, false, 1}, 5, 1, 41, false},  // every trajectory
                                   {{1, 2, true, 2}, 5, 2, 20 + 20 + 12 + 12 + 9, true},
                                   {{3, 3, true, 1}, 4, 1, 41, false}};
  for (const auto& cs : cases) {
    for (bool shuffle : {false, true}) {
      INFO("t_in " << cs.w.t_in << " t_out " << cs.w.t_out << " all_starts " << cs.w.all_starts << " stride "
                   << cs.w.stride << " batch " << cs.batch << " shuffle " << shuffle);
      WindowLoader loader(store, cs.w, cs.batch, 7, shuffle, cs.drop_last);
      REQUIRE(loader.on_mesh());
      REQUIRE(loader.windows_per_trajectory() == cs.per);
      REQUIRE(loader.samples() == kMeshTrajectories * cs.per);
      REQUIRE(loader.max_rows(cs.batch) == cs.rows);
      const int CX = loader.x_channels(), CY = loader.y_channels();
      CHECK(CX == cs.w.t_in * C);
      CHECK(CY == cs.w.t_out * C);
      const int stride = cs.w.all_starts ? cs.w.stride : 1;
      // The grid rules order the samples: a grid loader over as many windows has the same order.
      WindowLoader grid_loader(grid, cs.w, cs.batch, 7, shuffle, cs.drop_last);
      REQUIRE(grid_loader.samples() == loader.samples());

      View1<float, Mem> x("surro::test::mesh_loader::x", static_cast<std::size_t>(cs.rows) * CX);
      View1<float, Mem> y("surro::test::mesh_loader::y", static_cast<std::size_t>(cs.rows) * CY);
      for (int epoch : {0, 1}) {
        loader.start_epoch(epoch);
        grid_loader.start_epoch(epoch);
        REQUIRE(loader.order() == grid_loader.order());
        std::multiset<std::pair<int, int>> seen;
        for (int b = 0; b < loader.batches(); ++b) {
          Kokkos::deep_copy(x, -1.0f);
          Kokkos::deep_copy(y, -1.0f);
          const int count = loader.fill(Exec(), b, x.data(), y.data());
          const auto hx = test::to_host(x), hy = test::to_host(y);
          const auto& offsets = loader.batch_offsets();
          REQUIRE(static_cast<int>(loader.batch_trajectories().size()) == count);
          REQUIRE(static_cast<int>(offsets.size()) == count + 1);
          REQUIRE(offsets[0] == 0);
          REQUIRE(offsets.back() <= cs.rows);
          for (int i = 0; i < count; ++i) {
            const long long sample = loader.order()[static_cast<std::size_t>(b) * cs.batch + i];
            const int s = static_cast<int>(sample / cs.per), t0 = static_cast<int>(sample % cs.per) * stride;
            seen.emplace(s, t0);
            REQUIRE(loader.batch_trajectories()[i] == s);
            REQUIRE(offsets[i + 1] - offsets[i] == V[s]);
            // Row offsets[i] + v is node v of the sample; column t * C + c is channel c at step t.
            for (index_t v = 0; v < V[s]; ++v) {
              const std::size_t row = static_cast<std::size_t>(offsets[i] + v);
              for (int k = 0; k < CX; ++k)
                REQUIRE(hx[row * CX + k] == stored(s, t0 + k / C, k % C, static_cast<int>(v)));
              for (int k = 0; k < CY; ++k)
                REQUIRE(hy[row * CY + k] == stored(s, t0 + cs.w.t_in + k / C, k % C, static_cast<int>(v)));
            }
          }
          // Only V_batch rows are written: the rest of the caller's buffer is untouched.
          for (std::size_t e = static_cast<std::size_t>(offsets.back()) * CX; e < hx.size(); ++e)
            REQUIRE(hx[e] == -1.0f);
          for (std::size_t e = static_cast<std::size_t>(offsets.back()) * CY; e < hy.size(); ++e)
            REQUIRE(hy[e] == -1.0f);
        }
        // Each window once per epoch (drop_last leaves out the tail of the order).
        const long long used = cs.drop_last ? loader.samples() / cs.batch * cs.batch : loader.samples();
        CHECK(static_cast<long long>(seen.size()) == used);
        CHECK(std::set<std::pair<int, int>>(seen.begin(), seen.end()).size() == seen.size());
      }
    }
  }
}

TEMPLATE_LIST_TEST_CASE("mesh loader: grid loaders report one row per sample; pairs refused on meshes",
                        "[mesh_loader]", test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const TrajectoryStore grid = grid_store();
  WindowLoader loader(grid, WindowSpec{2, 1, true, 1}, 5, 3, true, false);  // 12 samples: 5, 5, 2
  CHECK(!loader.on_mesh());
  CHECK(loader.max_rows(5) == 5);
  CHECK(loader.max_rows(7) == 7);
  CHECK(loader.batch_offsets().empty());
  View1<float, Mem> x("surro::test::mesh_loader::x", 5 * 2 * 3), y("surro::test::mesh_loader::y", 5 * 3);
  for (int b = 0; b < loader.batches(); ++b) {
    const int count = loader.fill(Exec(), b, x.data(), y.data());
    std::vector<index_t> rows(static_cast<std::size_t>(count) + 1);
    std::iota(rows.begin(), rows.end(), index_t(0));
    CHECK(loader.batch_offsets() == rows);
    REQUIRE(static_cast<int>(loader.batch_trajectories().size()) == count);
    for (int i = 0; i < count; ++i)
      CHECK(loader.batch_trajectories()[i] == loader.trajectory_of(loader.order()[b * 5 + i]));
  }

  const fs::path dir = make_mesh_dataset("pairs");
  const TrajectoryStore store = load_split(dir.string(), "train", kFields);
  test::require_error(
      [&] {
        WindowLoader(store, PairSpec{{"pressure"}, {"velocity"}}, 2, 0, false, false);
      },
      ErrorKind::usage, "grid datasets only");
}

TEST_CASE("mesh loader: normalizers of values and of frame changes match a naive double computation",
          "[mesh_loader]") {
  const fs::path dir = make_mesh_dataset("normalizer");
  const TrajectoryStore store = load_split(dir.string(), "train", kFields);

  // Statistics per component over every node, trajectory and frame in range, by hand.
  // channels: store channels of the fields asked for; frames t in [first, first + n).
  auto naive = [&](const std::vector<int>& channels, int first, int n, bool delta) {
    std::vector<std::pair<double, double>> out;
    for (int c : channels) {
      std::vector<double> xs;
      for (int s = 0; s < kMeshTrajectories; ++s)
        for (int t = first; t < first + n; ++t)
          for (int v = 0; v < store.points(s); ++v)
            xs.push_back(delta ? double(stored(s, t + 1, c, v)) - double(stored(s, t, c, v))
                               : double(stored(s, t, c, v)));
      out.push_back(naive_stats(xs, 0.0));
    }
    return out;
  };
  // Chan's pairwise update and the two-pass sum differ by round-off: |values| < 3e5 over about 300
  // samples, so a relative 1e-12 bounds it with margin.
  auto check = [](const GaussianNormalizer& n, const std::vector<std::pair<double, double>>& want) {
    REQUIRE(n.fitted());
    REQUIRE(n.points() == 1);
    REQUIRE(n.channels() == static_cast<int>(want.size()));
    for (std::size_t c = 0; c < want.size(); ++c) {
      INFO("channel " << c);
      CHECK(n.mean()[c] == Approx(want[c].first).epsilon(1e-12).margin(1e-9));
      CHECK(n.stddev()[c] == Approx(want[c].second).epsilon(1e-12));
    }
  };
  // Fields pressure then velocity: channels 2, 0, 1 of the store.
  check(fit_normalizer(store, {"pressure", "velocity"}, NormKind::channel, 1, 3),
        naive({2, 0, 1}, 1, 3, false));
  check(fit_normalizer(store, {"velocity"}, NormKind::channel, -2, 0),
        naive({0, 1}, kMeshFrames - 2, 2, false));
  check(fit_delta_normalizer(store, {"velocity", "pressure"}, NormKind::channel, 0, 0),
        naive({0, 1, 2}, 0, kMeshFrames - 1, true));
  check(fit_delta_normalizer(store, {"pressure"}, NormKind::channel, 2, 2), naive({2}, 2, 2, true));
  const auto sdf = fit_delta_normalizer(store, {"sdf"}, NormKind::channel, 0, 0);  // constant: no change
  CHECK(sdf.mean()[0] == 0.0);
  CHECK(sdf.stddev()[0] == 0.0);

  // Edge features [dx, dy, |d|] over every mesh's sides in both directions (a naive edge set from
  // the cells, independent of mesh::unique_edges): dx and dy average to 0 exactly by symmetry.
  {
    std::vector<std::vector<double>> feats(3);
    for (int s = 0; s < kMeshTrajectories; ++s) {
      const mesh::Mesh& m = store.mesh(s);
      std::set<std::pair<int, int>> sides;
      for (std::size_t c = 0; c < m.cells.size() / 3; ++c)
        for (int k = 0; k < 3; ++k) {
          const int a = m.cells[3 * c + k], b = m.cells[3 * c + (k + 1) % 3];
          sides.insert({std::min(a, b), std::max(a, b)});
        }
      for (const auto& [a, b] : sides)
        for (const int sign : {1, -1}) {
          const double dx = sign * (m.points[2 * a] - m.points[2 * b]);
          const double dy = sign * (m.points[2 * a + 1] - m.points[2 * b + 1]);
          feats[0].push_back(dx);
          feats[1].push_back(dy);
          feats[2].push_back(std::hypot(dx, dy));
        }
    }
    std::vector<std::pair<double, double>> want;
    for (const auto& f : feats) want.push_back(naive_stats(f, 0.0));
    const GaussianNormalizer edges = fit_edge_normalizer(store);
    check(edges, want);
    // (the running mean's round-off over a few hundred unit-sized values)
    CHECK(std::abs(edges.mean()[0]) <= 1e-13);
    CHECK(std::abs(edges.mean()[1]) <= 1e-13);
    test::require_error([&] { fit_edge_normalizer(grid_store()); }, ErrorKind::usage, "on a grid");
  }

  // The stats.yaml writer (an independent pooled computation, 5 significant digits) agrees.
  const std::string yaml = (dir / "stats.yaml").string();
  write_stats_yaml(yaml, store.files());
  const auto stats = read_stats_yaml(yaml);
  const auto values = fit_normalizer(store, {"velocity", "pressure"}, NormKind::channel, 0, 0);
  const auto deltas = fit_delta_normalizer(store, {"velocity", "pressure"}, NormKind::channel, 0, 0);
  const std::vector<std::string> keys = {"velocity_x", "velocity_y", "pressure"};
  for (std::size_t c = 0; c < keys.size(); ++c) {
    INFO(keys[c]);
    CHECK(values.mean()[c] == Approx(stats.at("mean").at(keys[c])).epsilon(1e-4));
    CHECK(values.stddev()[c] == Approx(stats.at("std").at(keys[c])).epsilon(1e-4));
    CHECK(deltas.mean()[c] == Approx(stats.at("mean_delta").at(keys[c])).epsilon(1e-4));
    CHECK(deltas.stddev()[c] == Approx(stats.at("std_delta").at(keys[c])).epsilon(1e-4));
  }

  test::require_error([&] { fit_normalizer(store, {"velocity"}, NormKind::pointwise, 0, 0); },
                      ErrorKind::usage, "pointwise on a mesh store");
  test::require_error([&] { fit_delta_normalizer(store, {"velocity"}, NormKind::pointwise, 0, 0); },
                      ErrorKind::usage, "pointwise on a mesh store");
  test::require_error([&] { fit_delta_normalizer(store, {"velocity"}, NormKind::channel, 3, 3); },
                      ErrorKind::usage, "outside trajectories of 6 frames");
  test::require_error([&] { fit_normalizer(store, {"density"}, NormKind::channel, 0, 0); }, ErrorKind::usage,
                      "\"density\" is not loaded");

  // Grids: frame changes per point, unbiased (ddof 1) as the pointwise kind is.
  const TrajectoryStore grid = grid_store();
  const auto pw = fit_delta_normalizer(grid, {"u"}, NormKind::pointwise, 0, 0);
  REQUIRE(pw.points() == 3);
  for (int p = 0; p < 3; ++p) {
    std::vector<double> xs;
    for (int s = 0; s < kMeshTrajectories; ++s)
      for (int t = 0; t + 1 < kMeshFrames; ++t)
        xs.push_back(double(grid.frame(s, t + 1)[p]) - double(grid.frame(s, t)[p]));
    const auto want = naive_stats(xs, 1.0);
    CHECK(pw.mean()[p] == Approx(want.first).epsilon(1e-12));
    CHECK(pw.stddev()[p] == Approx(want.second).epsilon(1e-12));
  }
}

TEST_CASE("mesh loader: a split mixing grid and mesh files is refused naming the file", "[mesh_loader]") {
  const fs::path dir = make_mesh_dataset("mixed");
  // A grid file sorted after the mesh files.
  DatasetSpec gs;
  gs.dataset_name = "mesh_loader_test";
  gs.dims = {"x"};
  gs.coords = {{0.0, 1.0}};
  gs.boundaries = {Boundary::periodic};
  gs.times = {0.0, 0.1};
  gs.fields = {{"pressure", true}};
  Block gb;
  gb.count = 1;
  gb.fields["pressure"] = {1.0f, 2.0f, 3.0f, 4.0f};
  const std::string grid_file = (dir / "data" / "train" / "grid_0000.hdf5").string();
  write_well_file(grid_file, gs, gb);
  test::require_error([&] { load_split(dir.string(), "train", {"pressure"}); }, ErrorKind::input,
                      grid_file + ": grid file: expected the mesh layout");

  // And the other way round: a mesh file after a grid file.
  const fs::path dir2 = fresh_split("mixed2");
  write_well_file((dir2 / "data" / "train" / "a_grid.hdf5").string(), gs, gb);
  const DatasetSpec ms = mesh_spec();
  const std::string mesh_file = (dir2 / "data" / "train" / "b_mesh.hdf5").string();
  write_mesh_file(mesh_file, ms, mesh_block(ms, 0, 1));
  test::require_error([&] { load_split(dir2.string(), "train", {"pressure"}); }, ErrorKind::input,
                      mesh_file + ": mesh");

  // Mesh files that disagree on a field's components.
  const fs::path dir3 = make_mesh_dataset("components");
  DatasetSpec other = mesh_spec();
  other.fields[0].components = 2;  // pressure with two components
  Block ob = mesh_block(mesh_spec(), 3, 1);
  ob.fields["pressure"].resize(ob.fields["pressure"].size() * 2, 0.5f);
  const std::string odd = (dir3 / "data" / "train" / "cyl_0002.hdf5").string();
  write_mesh_file(odd, other, ob);
  test::require_error([&] { load_split(dir3.string(), "train", kFields); }, ErrorKind::input,
                      odd + ": field pressure: 2 components: expected 1");
}

TEST_CASE("mesh loader: concatenated graph batches equal the batch built at once", "[mesh_loader]") {
  const std::vector<mesh::Mesh> meshes = {traj_mesh(0), traj_mesh(1), traj_mesh(2)};
  for (int k_hop : {1, 2}) {
    INFO("k_hop " << k_hop);
    const op::HostGraphBatch all = op::build_host_graph_batch(meshes, k_hop);
    // A two-mesh part followed by a one-mesh part.
    const op::HostGraphBatch b01 = op::build_host_graph_batch({meshes[0], meshes[1]}, k_hop);
    const op::HostGraphBatch b2 = op::build_host_graph_batch({meshes[2]}, k_hop);
    require_same(op::concat_graph_batches({&b01, &b2}), all);
    require_same(op::concat_graph_batches({&all}), all);

    op::GraphBatchCache cache(meshes, k_hop);
    REQUIRE(cache.size() == 3);
    require_same(cache.gather({0, 1, 2}), all);
    // Any order, repeats allowed (one trajectory's windows twice in a batch).
    require_same(cache.gather({2, 0, 2}),
                 op::build_host_graph_batch({meshes[2], meshes[0], meshes[2]}, k_hop));
    require_same(cache.gather({1}), op::build_host_graph_batch({meshes[1]}, k_hop));

    // Capacities: the largest per count, by hand from the single-mesh batches.
    std::vector<op::GraphBatchCapacity> caps;
    for (int m = 0; m < 3; ++m) caps.push_back(cache.part(m).capacity());
    const auto max_of = [&](auto get) {
      std::vector<index_t> v;
      for (const auto& c : caps) v.push_back(get(c));
      std::sort(v.rbegin(), v.rend());
      return v;
    };
    const auto nodes = max_of([](const op::GraphBatchCapacity& c) { return c.nodes; });
    const auto edges = max_of([](const op::GraphBatchCapacity& c) { return c.edges; });
    const auto nnz = max_of([](const op::GraphBatchCapacity& c) { return c.nnz; });
    const op::GraphBatchCapacity two = cache.capacity(2, 1);
    CHECK(two.meshes == 2);
    CHECK(two.nodes == nodes[0] + nodes[1]);
    CHECK(two.edges == edges[0] + edges[1]);
    CHECK(two.nnz == nnz[0] + nnz[1]);
    const op::GraphBatchCapacity any = cache.capacity(2);
    CHECK(any.nodes == 2 * nodes[0]);
    CHECK(any.edges == 2 * edges[0]);
    CHECK(any.nnz == 2 * nnz[0]);
    CHECK(cache.capacity(5, 1).nodes == nodes[0] + nodes[1] + nodes[2]);
    CHECK(all.nodes() <= cache.capacity(3, 1).nodes);
  }
  const op::HostGraphBatch one = op::build_host_graph_batch({meshes[0]}, 1);
  const op::HostGraphBatch two = op::build_host_graph_batch({meshes[0]}, 2);
  test::require_error([&] { op::concat_graph_batches({&one, &two}); }, ErrorKind::usage, "part 1");
  op::GraphBatchCache cache(meshes, 1);
  test::require_error([&] { cache.gather({0, 3}); }, ErrorKind::usage, "mesh 3");
}
