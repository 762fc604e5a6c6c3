// Mesh topology and geometry: edges, the directed graph's CSR orders, k-hop neighbourhoods (against
// hand-computed answers and dense matrix powers), cell measures, quality, facet normals, and
// validate_mesh catching each defect class.
#include "core/error.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/mesh.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace surro;
using namespace surro::mesh;

namespace {

// The square [0, 2]^2 on a 3 x 3 grid of nodes (node 3 row + col at (col, row)); each unit square
// (a, b, c, d) counter-clockwise from its lower-left corner is split along a-c into (a, b, c) and
// (a, c, d). V = 9, F = 8 triangles.
Mesh square_2x2() {
  Mesh m;
  m.dim = 2;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      m.points.push_back(c);
      m.points.push_back(r);
    }
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 2; ++c) {
      const int a = 3 * r + c, b = a + 1, cc = a + 4, d = a + 3;
      m.cells.insert(m.cells.end(), {a, b, cc, a, cc, d});
    }
  // Boundary facets: bottom (0, 1), (1, 2); right (2, 5), (5, 8); top (8, 7), (7, 6); left (6, 3), (3, 0).
  m.facets = {0, 1, 1, 2, 2, 5, 5, 8, 8, 7, 7, 6, 6, 3, 3, 0};
  m.facet_tags = {1, 1, 2, 2, 3, 3, 4, 4};
  m.tag_names = {{1, "bottom"}, {2, "right"}, {3, "top"}, {4, "left"}};
  m.node_type.assign(9, normal);
  return m;
}

std::vector<int> row(const Csr& a, int i) {
  return std::vector<int>(a.indices.begin() + a.offsets[i], a.indices.begin() + a.offsets[i + 1]);
}

// Expects validate_mesh to fail with Error(input) naming the source and containing `what`.
void rejects(const Mesh& m, const std::string& what) {
  INFO(what);
  try {
    validate_mesh(m, "hand_mesh");
    FAIL("validate_mesh accepted a mesh with: " << what);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Contains("hand_mesh"));
    CHECK_THAT(e.what(), Catch::Contains(what));
  }
}

}  // namespace

TEST_CASE("mesh_graph: edges and both CSR orders of a 2 x 2 square", "[mesh_topology]") {
  const Mesh m = square_2x2();
  // Euler for a disc: V - E + F = 1, so E = V + F - 1 = 16.
  const std::vector<int> edges = unique_edges(m);
  CHECK(edges.size() == 2 * 16);
  const Graph g = mesh_graph(m);
  REQUIRE(g.num_edges() == 32);
  REQUIRE(g.by_receiver.rows() == 9);
  // Neighbours by hand: the diagonals run 0-4, 1-5, 3-7, 4-8.
  CHECK(row(g.by_receiver, 0) == std::vector<int>{1, 3, 4});
  CHECK(row(g.by_receiver, 2) == std::vector<int>{1, 5});
  CHECK(row(g.by_receiver, 4) == std::vector<int>{0, 1, 3, 5, 7, 8});
  CHECK(row(g.by_receiver, 8) == std::vector<int>{4, 5, 7});
  // Receiver order: edge e = offsets[r] + j has receiver r and sender indices[e]; (r, s) increasing.
  for (int r = 0; r < 9; ++r)
    for (long long e = g.by_receiver.offsets[r]; e < g.by_receiver.offsets[r + 1]; ++e) {
      CHECK(g.receivers[e] == r);
      CHECK(g.senders[e] == g.by_receiver.indices[e]);
      CHECK(g.senders[e] != r);
    }
  // Sender order and the permutation between the orders.
  std::vector<int> hits(32, 0);
  for (int s = 0; s < 9; ++s) {
    CHECK(row(g.by_sender, s) == row(g.by_receiver, s));  // the graph is symmetric
    for (long long p = g.by_sender.offsets[s]; p < g.by_sender.offsets[s + 1]; ++p) {
      const long long e = g.sender_to_receiver[p];
      REQUIRE(e >= 0);
      REQUIRE(e < 32);
      ++hits[e];
      CHECK(g.senders[e] == s);
      CHECK(g.receivers[e] == g.by_sender.indices[p]);
    }
  }
  CHECK(hits == std::vector<int>(32, 1));

  // cell_edges indexes unique_edges: each triangle's sides found.
  const std::vector<int> ce = cell_edges(m, edges);
  for (std::size_t c = 0; c < 8; ++c)
    for (int s = 0; s < 3; ++s) {
      const int a = m.cells[3 * c + s], b = m.cells[3 * c + (s + 1) % 3];
      const int e = ce[3 * c + s];
      CHECK(edges[2 * e] == std::min(a, b));
      CHECK(edges[2 * e + 1] == std::max(a, b));
    }

  // edge_graph rejects self-loops and merges duplicate pairs.
  CHECK_THROWS_AS(edge_graph({0, 0}, 2), Error);
  CHECK(edge_graph({0, 1, 1, 0, 0, 1}, 2).num_edges() == 2);
}

TEST_CASE("k_hop: a path graph by hand, duplicates and self-loops removed", "[mesh_topology]") {
  // Path 0 - 1 - 2 - 3 - 4, with a self-loop on 2 and a duplicate 0 -> 1 in the input adjacency.
  Csr path;
  path.offsets = {0, 2, 4, 7, 9, 10};
  path.indices = {1, 1, 0, 2, 1, 2, 3, 2, 4, 3};
  const Csr one = k_hop(path, 1);
  CHECK(row(one, 0) == std::vector<int>{1});
  CHECK(row(one, 2) == std::vector<int>{1, 3});
  const Csr two = k_hop(path, 2);
  CHECK(row(two, 0) == std::vector<int>{1, 2});
  CHECK(row(two, 2) == std::vector<int>{0, 1, 3, 4});
  CHECK(row(two, 4) == std::vector<int>{2, 3});
  const Csr all = k_hop(path, 10);
  for (int i = 0; i < 5; ++i) {
    std::vector<int> others;
    for (int j = 0; j < 5; ++j)
      if (j != i) others.push_back(j);
    CHECK(row(all, i) == others);
  }
  CHECK_THROWS_AS(k_hop(path, 0), Error);
}

TEST_CASE("k_hop: equals the support of A + ... + A^k minus the diagonal on a channel mesh",
          "[mesh_topology]") {
  ChannelGeometry geometry;
  geometry.size = 0.1;
  geometry.size_obstacle = 0.03;
  const Mesh m = generate_channel(geometry);
  const Graph g = mesh_graph(m);
  const int nv = static_cast<int>(m.num_points());
  REQUIRE(nv > 100);
  // Dense 0/1 matrices (V, V): reach = support of A + ... + A^k, built with one product per k.
  std::vector<char> a(static_cast<std::size_t>(nv) * nv, 0), reach, power;
  for (int r = 0; r < nv; ++r)
    for (const int s : row(g.by_receiver, r)) a[static_cast<std::size_t>(r) * nv + s] = 1;
  reach = a;
  power = a;
  for (int k = 1; k <= 3; ++k) {
    if (k > 1) {
      std::vector<char> next(power.size(), 0);
      for (int i = 0; i < nv; ++i)
        for (int l = 0; l < nv; ++l)
          if (power[static_cast<std::size_t>(i) * nv + l])
            for (int j = 0; j < nv; ++j)
              next[static_cast<std::size_t>(i) * nv + j] |= a[static_cast<std::size_t>(l) * nv + j];
      power.swap(next);
      for (std::size_t i = 0; i < reach.size(); ++i) reach[i] |= power[i];
    }
    const Csr hop = k_hop(g.by_receiver, k);
    INFO("k = " << k);
    long long mismatches = 0;
    for (int i = 0; i < nv; ++i) {
      std::vector<int> expected;
      for (int j = 0; j < nv; ++j)
        if (j != i && reach[static_cast<std::size_t>(i) * nv + j]) expected.push_back(j);
      if (row(hop, i) != expected) ++mismatches;
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("cell geometry: measures, quality and facet normals by hand", "[mesh_topology]") {
  Mesh t;
  t.dim = 2;
  // (0,0) (2,0) (0,1): area 1; the equilateral triangle of side 1; the same reversed: area -1.
  t.points = {0, 0, 2, 0, 0, 1, 1, 0, 0.5, std::sqrt(3.0) / 2};
  t.cells = {0, 1, 2, 0, 3, 4, 0, 2, 1};
  const std::vector<double> area = cell_measures(t);
  CHECK(area[0] == Approx(1.0).epsilon(1e-15));
  CHECK(area[1] == Approx(std::sqrt(3.0) / 4).epsilon(1e-15));
  CHECK(area[2] == Approx(-1.0).epsilon(1e-15));
  const std::vector<double> q = cell_quality(t);
  // 4 sqrt(3) A / sum l^2: (0,0) (2,0) (0,1) has sum 4 + 5 + 1 = 10, so q = 0.4 sqrt(3).
  CHECK(q[0] == Approx(0.4 * std::sqrt(3.0)).epsilon(1e-14));
  CHECK(q[1] == Approx(1.0).epsilon(1e-14));
  CHECK(q[2] == Approx(-0.4 * std::sqrt(3.0)).epsilon(1e-14));

  // Regular tetrahedron with edge 2 sqrt(2): volume 8/3, quality 1; the unit corner tetrahedron:
  // volume 1/6, l_rms^2 = (3 + 3 * 2) / 6 = 1.5, quality 6 sqrt(2) / 6 / 1.5^1.5.
  Mesh tet;
  tet.dim = 3;
  tet.points = {1, 1, 1, 1, -1, -1, -1, -1, 1, -1, 1, -1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  tet.cells = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<double> vol = cell_measures(tet);
  CHECK(vol[0] == Approx(8.0 / 3).epsilon(1e-14));
  CHECK(vol[1] == Approx(1.0 / 6).epsilon(1e-15));
  const std::vector<double> tq = cell_quality(tet);
  CHECK(tq[0] == Approx(1.0).epsilon(1e-14));
  CHECK(tq[1] == Approx(std::sqrt(2.0) / std::pow(1.5, 1.5)).epsilon(1e-14));
  // Outward normals of the corner tetrahedron's faces, in either node order.
  tet.facets = {4, 5, 6, 5, 6, 7, 7, 6, 5, 4, 7, 5};
  tet.facet_tags = {1, 1, 1, 1};
  const std::vector<double> tn = facet_normals(tet);
  const double s = 1 / std::sqrt(3.0);
  const std::vector<double> expected_tn = {0, 0, -1, s, s, s, s, s, s, 0, -1, 0};
  for (std::size_t i = 0; i < expected_tn.size(); ++i) CHECK(tn[i] == Approx(expected_tn[i]).margin(1e-15));

  // The square's boundary facets: normals point out of [0, 2]^2.
  const Mesh sq = square_2x2();
  const std::vector<double> n = facet_normals(sq);
  const std::vector<double> expected = {0, -1, 0, -1, 1, 0, 1, 0, 0, 1, 0, 1, -1, 0, -1, 0};
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(n[i] == Approx(expected[i]).margin(1e-15));
}

TEST_CASE("validate_mesh: each defect class is an input error naming the element", "[mesh_topology]") {
  const Mesh good = square_2x2();
  CHECK_NOTHROW(validate_mesh(good, "hand_mesh"));
  Mesh m = good;
  m.cells[0] = 9;
  rejects(m, "cell 0 node 0 = 9");
  m = good;
  m.facets[3] = -1;
  rejects(m, "facet 1 node 1 = -1");
  m = good;
  std::swap(m.cells[1], m.cells[2]);
  rejects(m, "cell 0 (nodes 0, 4, 1) is inverted");
  m = good;
  m.cells[2] = 2;  // (0, 1, 2): three nodes on the bottom row
  rejects(m, "degenerate");
  m = good;
  m.cells[1] = 0;
  rejects(m, "repeats node 0");
  m = good;
  m.points[16] = m.points[14];  // node 8 onto node 7
  m.points[17] = m.points[15];
  rejects(m, "nodes 7 and 8 have the same coordinates");
  m = good;
  m.points.insert(m.points.end(), {5, 5});
  m.node_type.push_back(normal);
  rejects(m, "node 9 is in no cell");
  m = good;
  m.node_type.pop_back();
  rejects(m, "node_type has 8 entries");
  m = good;
  m.node_type[3] = 9;
  rejects(m, "node 3: node type 9");
  // Three cells on side (0, 1): two extra triangles below the bottom row.
  m = good;
  m.points.insert(m.points.end(), {1, -1, 0.5, -2});
  m.cells.insert(m.cells.end(), {0, 9, 1, 0, 10, 1});
  m.node_type.resize(11, normal);
  rejects(m, "side (0, 1) is shared by 3 cells");
  // A positive triangle folded over cell 0: both lie above side (0, 1).
  m = good;
  m.points.insert(m.points.end(), {1, 0.5});
  m.cells.insert(m.cells.end(), {0, 1, 9});
  m.node_type.push_back(normal);
  rejects(m, "lie on the same side of their shared side (0, 1)");
  m = good;
  m.facets[0] = 4;  // facet (4, 1): an interior side of two cells
  rejects(m, "boundary facet 0 (1, 4) is a side of 2 cells");
  m = good;
  m.facets[1] = 8;  // facet (0, 8): no cell's side
  rejects(m, "boundary facet 0 (0, 8) is a side of 0 cells");
}

TEST_CASE("validate_mesh: tetrahedra, inverted and folded", "[mesh_topology]") {
  // Two positive tetrahedra sharing face (1, 2, 3): (0, 1, 2, 3) volume 1/6 and (1, 2, 3, 4) volume 1/3.
  Mesh m;
  m.dim = 3;
  m.points = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
  m.cells = {0, 1, 2, 3, 1, 2, 3, 4};
  const std::vector<double> v = cell_measures(m);
  CHECK(v[0] == Approx(1.0 / 6).epsilon(1e-15));
  CHECK(v[1] == Approx(1.0 / 3).epsilon(1e-15));
  CHECK_NOTHROW(validate_mesh(m, "hand_mesh"));
  Mesh bad = m;
  std::swap(bad.cells[6], bad.cells[7]);
  rejects(bad, "cell 1 (nodes 1, 2, 4, 3) is inverted");
  // A positive tetrahedron on the same side of face (1, 2, 3) as cell 0: a fold.
  bad = m;
  bad.points[12] = bad.points[13] = bad.points[14] = 0.1;  // node 4 moved inside cell 0's side of the face
  bad.cells = {0, 1, 2, 3, 1, 3, 2, 4};
  rejects(bad, "cells 0 and 1 lie on the same side of their shared face (1, 2, 3)");
}
