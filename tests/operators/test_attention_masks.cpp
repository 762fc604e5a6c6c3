// The mesh transformer's attention masks (operators/attention_masks.hpp): the dilated mask and the
// global nodes against a naive all-pairs distance table (Floyd-Warshall on the mesh's unique edges,
// independent of the breadth-first searches under test), the union without duplicates, batches
// against each mesh alone, determinism, and the config keys. Exact integer checks throughout.
#include "core/config.hpp"
#include "core/error.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/mesh.hpp"
#include "operators/graph_batch.hpp"
#include "operators/model.hpp"
#include "operators/models/graph_models.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <set>

using namespace surro;

namespace attention_masks_test {

// An nx x ny lattice of unit squares, each cut into two triangles along alternating diagonals (so
// the hop distance is not a plain max or sum of |di|, |dj|). Node (i, j) = j nx + i; left column
// INFLOW, right column OUTFLOW, top and bottom rows WALL (corners: INFLOW / OUTFLOW), rest NORMAL.
mesh::Mesh lattice(int nx, int ny) {
  mesh::Mesh m;
  m.dim = 2;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      m.points.push_back(i);
      m.points.push_back(j);
      m.node_type.push_back(i == 0                    ? mesh::inflow
                            : i == nx - 1             ? mesh::outflow
                            : (j == 0 || j == ny - 1) ? mesh::wall
                                                      : mesh::normal);
    }
  for (int j = 0; j + 1 < ny; ++j)
    for (int i = 0; i + 1 < nx; ++i) {
      const int a = j * nx + i, b = a + 1, c = a + nx + 1, d = a + nx;
      if ((i + j) % 2 == 0)
        for (int v : {a, b, c, a, c, d}) m.cells.push_back(v);
      else
        for (int v : {a, b, d, b, c, d}) m.cells.push_back(v);
    }
  return m;
}

constexpr int unreachable = 1 << 20;

// (V, V) hop distances by Floyd-Warshall over unique_edges(mesh).
std::vector<int> distance_table(const mesh::Mesh& m) {
  const int n = int(m.num_points());
  std::vector<int> d(std::size_t(n) * n, unreachable);
  for (int i = 0; i < n; ++i) d[std::size_t(i) * n + i] = 0;
  const std::vector<int> e = mesh::unique_edges(m);
  for (std::size_t k = 0; k + 1 < e.size(); k += 2) {
    d[std::size_t(e[k]) * n + e[k + 1]] = 1;
    d[std::size_t(e[k + 1]) * n + e[k]] = 1;
  }
  for (int k = 0; k < n; ++k)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        d[std::size_t(i) * n + j] =
            std::min(d[std::size_t(i) * n + j], d[std::size_t(i) * n + k] + d[std::size_t(k) * n + j]);
  return d;
}

// Row i of a CSR as a vector.
std::vector<int> row(const mesh::Csr& a, long long i) {
  return {a.indices.begin() + a.offsets[i], a.indices.begin() + a.offsets[i + 1]};
}

// Rows strictly increasing (sorted, each column once), no diagonal, columns in range.
void check_well_formed(const mesh::Csr& a, long long n) {
  REQUIRE(a.rows() == n);
  for (long long i = 0; i < n; ++i) {
    const std::vector<int> r = row(a, i);
    for (std::size_t s = 0; s < r.size(); ++s) {
      CHECK(r[s] >= 0);
      CHECK(r[s] < n);
      CHECK(r[s] != i);
      if (s > 0) CHECK(r[s - 1] < r[s]);
    }
  }
}

bool dilated_rule(int h, int d, int r) {
  return h == 1 || (h >= 1 && h <= r && h % d == 0);
}

}  // namespace attention_masks_test

using namespace attention_masks_test;

TEST_CASE("attention masks: dilated (d, r) holds exactly the pairs of the rule on a distance table",
          "[attention_masks]") {
  const mesh::Mesh m = lattice(9, 7);
  const int n = int(m.num_points());
  const std::vector<int> dist = distance_table(m);
  const mesh::Graph g = mesh::mesh_graph(m);
  struct Dr {
    int d, r;
  };
  for (const Dr dr : {Dr{2, 8}, Dr{3, 7}, Dr{2, 2}, Dr{4, 3}, Dr{1, 4}, Dr{2, 30}}) {
    INFO("d " << dr.d << ", r " << dr.r);
    const mesh::Csr a = op::dilated_hops(g.by_receiver, dr.d, dr.r);
    check_well_formed(a, n);
    long long want_nnz = 0;
    for (int i = 0; i < n; ++i) {
      const std::vector<int> ri = row(a, i);
      const std::set<int> got(ri.begin(), ri.end());
      for (int j = 0; j < n; ++j) {
        const bool want = dilated_rule(dist[std::size_t(i) * n + j], dr.d, dr.r);
        want_nnz += want;
        if (want != bool(got.count(j)))
          FAIL_CHECK("pair (" << i << ", " << j << ") at hop distance " << dist[std::size_t(i) * n + j]);
      }
    }
    CHECK(a.nnz() == want_nnz);
  }
  // d = 1 is the k-hop mask; r < d keeps hop 1 only: the adjacency.
  const mesh::Csr k4 = mesh::k_hop(g.by_receiver, 4), d14 = op::dilated_hops(g.by_receiver, 1, 4);
  CHECK(d14.offsets == k4.offsets);
  CHECK(d14.indices == k4.indices);
  const mesh::Csr d43 = op::dilated_hops(g.by_receiver, 4, 3);
  CHECK(d43.indices == g.by_receiver.indices);
  // Through the mesh-level entry point, with the spec.
  const mesh::Csr via = op::mesh_attention_mask(g, m.node_type, op::MaskSpec::dilated(2, 8));
  CHECK(via.indices == op::dilated_hops(g.by_receiver, 2, 8).indices);
  CHECK_THROWS_AS(op::dilated_hops(g.by_receiver, 0, 4), Error);
}

TEST_CASE("attention masks: global nodes by farthest-point sampling; the union has each pair once",
          "[attention_masks]") {
  const mesh::Mesh m = lattice(9, 7);
  const int n = int(m.num_points());
  const std::vector<int> dist = distance_table(m);
  const mesh::Graph g = mesh::mesh_graph(m);
  const std::vector<int> globals = op::global_node_choice(g.by_receiver, m.node_type, 5);
  REQUIRE(globals.size() == 5);
  // g_0: the first WALL node (node 0 is an INFLOW corner, node 1 the first bottom-wall node).
  CHECK(globals[0] == 1);
  // g_m: the node not chosen yet farthest (in hops) from the chosen ones, lowest number on ties.
  for (std::size_t k = 1; k < globals.size(); ++k) {
    int best = -1, best_d = -1;
    for (int i = 0; i < n; ++i) {
      if (std::find(globals.begin(), globals.begin() + k, i) != globals.begin() + k) continue;
      int nearest = unreachable;
      for (std::size_t l = 0; l < k; ++l) nearest = std::min(nearest, dist[std::size_t(i) * n + globals[l]]);
      if (nearest > best_d) best = i, best_d = nearest;
    }
    CHECK(globals[k] == best);
  }
  // No WALL or OBSTACLE node: g_0 = 0. More global nodes than nodes: every node, once.
  CHECK(op::global_node_choice(g.by_receiver, std::vector<int>(std::size_t(n), mesh::normal), 1) ==
        std::vector<int>{0});
  const std::vector<int> every = op::global_node_choice(g.by_receiver, m.node_type, n + 10);
  CHECK(std::set<int>(every.begin(), every.end()).size() == std::size_t(n));
  CHECK(every.size() == std::size_t(n));

  for (const op::MaskSpec local :
       {op::MaskSpec::hops(1), op::MaskSpec::hops(2), op::MaskSpec::dilated(2, 6)}) {
    op::MaskSpec spec = local;
    spec.global_nodes = 5;
    INFO(spec.describe());
    const mesh::Csr base = op::mesh_attention_mask(g, m.node_type, local);
    const mesh::Csr a = op::mesh_attention_mask(g, m.node_type, spec);
    check_well_formed(a, n);  // each pair once: a duplicate would count twice in the softmax
    const std::set<int> gs(globals.begin(), globals.end());
    long long want_nnz = 0;
    for (int i = 0; i < n; ++i) {
      const std::vector<int> bi = row(base, i), ai = row(a, i);
      std::set<int> want(bi.begin(), bi.end());
      if (gs.count(i)) {
        for (int j = 0; j < n; ++j)
          if (j != i) want.insert(j);  // a global row is full
      } else {
        want.insert(gs.begin(), gs.end());  // every node attends to every global node
      }
      want_nnz += static_cast<long long>(want.size());
      CHECK(std::set<int>(ai.begin(), ai.end()) == want);
    }
    CHECK(a.nnz() == want_nnz);
    // Symmetric: j in row i <=> i in row j.
    std::set<std::pair<int, int>> pairs;
    for (int i = 0; i < n; ++i)
      for (int j : row(a, i)) pairs.insert({i, j});
    for (const auto& p : pairs) CHECK(pairs.count({p.second, p.first}) == 1);
  }
}

TEST_CASE("attention masks: disconnected graphs; global nodes reach every component", "[attention_masks]") {
  // Two paths 0-1-2 and 3-4 as a CSR.
  mesh::Csr a;
  a.offsets = {0, 1, 3, 4, 5, 6};
  a.indices = {1, 0, 2, 1, 4, 3};
  // From node 0, the other component is infinitely far: node 3 (lowest of 3, 4) comes second.
  CHECK(op::global_node_choice(a, {}, 2) == std::vector<int>{0, 3});
  const mesh::Csr d = op::dilated_hops(a, 2, 4);
  CHECK(row(d, 0) == std::vector<int>{1, 2});
  CHECK(row(d, 3) == std::vector<int>{4});
  const mesh::Csr u = op::add_global_nodes(a, {3, 0});
  CHECK(row(u, 0) == std::vector<int>{1, 2, 3, 4});
  CHECK(row(u, 1) == std::vector<int>{0, 2, 3});
  CHECK(row(u, 4) == std::vector<int>{0, 3});
}

TEST_CASE("attention masks: batches are block-diagonal, equal to each mesh alone, deterministic",
          "[attention_masks]") {
  const std::vector<mesh::Mesh> meshes = {lattice(6, 5), lattice(7, 6), lattice(5, 4)};
  op::MaskSpec spec = op::MaskSpec::dilated(2, 4, 3);
  const op::HostGraphBatch b = op::build_host_graph_batch(meshes, spec);
  CHECK(b.mask_spec == spec);
  for (std::size_t k = 0; k < meshes.size(); ++k) {
    INFO("mesh " << k);
    const index_t first = b.node_offsets[k], last = b.node_offsets[k + 1];
    const op::HostGraphBatch alone = op::build_host_graph_batch({meshes[k]}, spec);
    for (index_t i = first; i < last; ++i) {
      const index_t li = i - first;
      REQUIRE(b.mask.offsets[i + 1] - b.mask.offsets[i] ==
              alone.mask.offsets[li + 1] - alone.mask.offsets[li]);
      for (index_t s = 0; s < b.mask.offsets[i + 1] - b.mask.offsets[i]; ++s) {
        const int j = b.mask.indices[b.mask.offsets[i] + s];
        CHECK(j >= first);  // no entry across meshes
        CHECK(j < last);
        CHECK(j - first == alone.mask.indices[alone.mask.offsets[li] + s]);
      }
    }
  }
  // Rebuilt: the same arrays. The cache's gather: the same batch without rebuilding.
  const op::HostGraphBatch again = op::build_host_graph_batch(meshes, spec);
  CHECK(again.mask.offsets == b.mask.offsets);
  CHECK(again.mask.indices == b.mask.indices);
  CHECK(again.mask_perm == b.mask_perm);
  op::GraphBatchCache cache(meshes, spec);
  CHECK(cache.mask_spec() == spec);
  const op::HostGraphBatch& gathered = cache.gather({0, 1, 2});
  CHECK(gathered.mask.indices == b.mask.indices);
  CHECK(gathered.mask_t.indices == b.mask_t.indices);
  CHECK(cache.capacity(3, 1).nnz == b.nnz());  // each mesh once: the sum of the three
  // The old k_hop arguments are MaskSpec::hops; parts of different masks do not concatenate.
  CHECK(op::build_host_graph_batch(meshes, 2).mask.indices ==
        op::build_host_graph_batch(meshes, op::MaskSpec::hops(2)).mask.indices);
  const op::HostGraphBatch adj = op::build_host_graph_batch({meshes[0]});
  const op::HostGraphBatch dil = op::build_host_graph_batch({meshes[0]}, spec);
  CHECK_THROWS_WITH(op::concat_graph_batches({&adj, &dil}),
                    Catch::Contains("part 1") && Catch::Contains("dilated (d 2, r 4) + 3 global nodes"));
  op::MaskSpec bad = spec;
  bad.global_nodes = -1;
  CHECK_THROWS_WITH(op::build_host_graph_batch(meshes, bad), Catch::Contains("global_nodes = -1"));
}

TEST_CASE("attention masks: the mesh_transformer section's mask keys", "[attention_masks]") {
  auto arch_of = [](config::json j) {
    j["type"] = "mesh_transformer";
    config::Node node(j, "run.json", "model", nullptr);
    return op::read_architecture(node);
  };
  CHECK(arch_of({})->graph_mask() == op::MaskSpec{});
  CHECK(arch_of({{"mask", "k_hop"}, {"k", 3}})->graph_mask() == op::MaskSpec::hops(3));
  const op::MaskSpec d = arch_of({{"mask", "dilated"}, {"global_nodes", 8}})->graph_mask();
  CHECK(d == op::MaskSpec::dilated(2, 8, 8));
  CHECK(arch_of({{"mask", "dilated"}, {"dilation", 3}, {"radius", 9}})->graph_mask() ==
        op::MaskSpec::dilated(3, 9));
  CHECK(arch_of({{"global_nodes", 4}})->graph_mask().global_nodes == 4);
  op::ParamTable table;
  CHECK_THAT(arch_of({{"mask", "dilated"}, {"global_nodes", 8}})->summary(table),
             Catch::Contains("mask dilated (d 2, r 8) + 8 global nodes"));
  auto refused = [&](config::json j, const std::string& what) {
    INFO(j.dump());
    CHECK_THROWS_WITH(arch_of(j), Catch::Contains(what));
  };
  refused({{"mask", "dilated"}, {"dilation", 1}}, "model.dilation");
  refused({{"mask", "dilated"}, {"dilation", 3}, {"radius", 2}}, "model.radius");
  refused({{"mask", "dilated"}, {"radius", 0}}, "model.radius");
  refused({{"mask", "k_hop"}, {"radius", 4}}, "model.radius");
  refused({{"dilation", 2}}, "model.dilation");
  refused({{"mask", "dilated"}, {"k", 2}}, "model.k");
  refused({{"global_nodes", -1}}, "model.global_nodes");
  refused({{"mask", "sliding"}}, "model.mask");
}

// Not run by default (hidden tag): the per-node mask sizes on a CylinderFlow-size channel
// (docs/operators.md's table, printed); checks the orderings the definitions imply and the global
// pattern's exact count.
TEST_CASE("attention masks: entries per node on the CylinderFlow-size channel", "[.attention_masks_nnz]") {
  const mesh::Mesh m = mesh::generate_channel(mesh::ChannelGeometry{});
  const mesh::Graph g = mesh::mesh_graph(m);
  const long long n = m.num_points();
  struct Row {
    double per_node, per_node_g8;
    long long longest;  // the longest row of the local mask
  };
  auto measure = [&](op::MaskSpec s) {
    const mesh::Csr local = op::mesh_attention_mask(g, m.node_type, s);
    const std::string name = s.describe();
    s.global_nodes = 8;
    const mesh::Csr with = op::mesh_attention_mask(g, m.node_type, s);
    // Global rows hold n - 1 each; every other row gains the globals it did not hold.
    const std::vector<int> gs = op::global_node_choice(g.by_receiver, m.node_type, 8);
    long long want = 8 * (n - 1);
    for (long long i = 0; i < n; ++i) {
      if (std::find(gs.begin(), gs.end(), int(i)) != gs.end()) continue;
      const std::vector<int> r = row(local, i);
      want += static_cast<long long>(r.size()) + 8;
      for (int j : gs) want -= std::count(r.begin(), r.end(), j);
    }
    CHECK(with.nnz() == want);
    long long longest = 0;
    for (long long i = 0; i < n; ++i) longest = std::max(longest, local.offsets[i + 1] - local.offsets[i]);
    std::cout << name << ": " << double(local.nnz()) / n << " per node (longest row " << longest
              << "), with 8 global nodes " << double(with.nnz()) / n << "\n";
    return Row{double(local.nnz()) / n, double(with.nnz()) / n, longest};
  };
  std::cout << "V = " << n << ", E = " << g.num_edges() << " directed\n";
  const Row a = measure(op::MaskSpec::hops(1)), k2 = measure(op::MaskSpec::hops(2)),
            k3 = measure(op::MaskSpec::hops(3)), k8 = measure(op::MaskSpec::hops(8)),
            d28 = measure(op::MaskSpec::dilated(2, 8)), d38 = measure(op::MaskSpec::dilated(3, 9));
  CHECK(a.per_node < k2.per_node);
  CHECK(k2.per_node < k3.per_node);
  CHECK(k3.per_node < d28.per_node);
  CHECK(d28.per_node < k8.per_node);
  CHECK(d38.per_node < d28.per_node);
  CHECK(a.per_node_g8 <= a.per_node + 16);  // <= 8 more per ordinary row, 8 rows of n - 1
}
