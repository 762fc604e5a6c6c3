// read_msh on fixtures written by Debian's gmsh program (tests/data/mesh/make_fixtures.sh): the same
// geometry in MSH 4.1 ASCII, 4.1 binary and 2.2 ASCII reads back to the same mesh; broken files
// (truncated, garbled, folded, duplicate nodes, quadrilaterals, second-order triangles, wrong group
// tables) fail with Error(input) naming the file.
#include "core/error.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/mesh.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace surro;
using namespace surro::mesh;

namespace {

std::string fixture(const std::string& name) {
  return std::string(SURRO_TEST_DATA_DIR) + "/mesh/" + name;
}

const std::map<std::string, int> kTable{
    {"inlet", inflow}, {"outlet", outflow}, {"walls", wall}, {"cylinder", wall}};

// Expects Error(input) whose message names the file and contains `what`.
void fails_with(const std::string& name, const std::string& what,
                const std::map<std::string, int>& table = kTable) {
  INFO(name);
  try {
    read_msh(fixture(name), table);
    FAIL("no error reading " << name);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Contains(name));
    CHECK_THAT(e.what(), Catch::Contains(what));
  }
}

}  // namespace

TEST_CASE("read_msh: MSH 4.1 ASCII, 4.1 binary and 2.2 ASCII read back to the same mesh", "[mesh_io]") {
  const Mesh a = read_msh(fixture("channel_v41.msh"), kTable);
  const Mesh b = read_msh(fixture("channel_v41_bin.msh"), kTable);
  const Mesh c = read_msh(fixture("channel_v22.msh"), kTable);
  // channel.geo: 1 x 0.5 rectangle minus the disk r = 0.1 around (0.3, 0.25); 221 nodes, 378 triangles
  // (gmsh 4.8.4). Euler for a plane domain with one hole: V - E + F = 0 (F = triangles).
  REQUIRE(a.dim == 2);
  CHECK(a.num_points() == 221);
  CHECK(a.num_cells() == 378);
  CHECK(a.num_points() - static_cast<long long>(unique_edges(a).size() / 2) + a.num_cells() == 0);
  for (const Mesh* m : {&b, &c}) {
    // ASCII writes 16 significant digits, binary the exact doubles: positions agree to 1e-15.
    REQUIRE(m->points.size() == a.points.size());
    for (std::size_t i = 0; i < a.points.size(); ++i) CHECK(std::abs(m->points[i] - a.points[i]) <= 1e-15);
    CHECK(m->cells == a.cells);
    CHECK(m->node_type == a.node_type);
    CHECK(m->facets == a.facets);
    CHECK(m->facet_tags == a.facet_tags);
    CHECK(m->tag_names == a.tag_names);
  }
  CHECK(a.tag_names ==
        std::map<int, std::string>{{1, "inlet"}, {2, "outlet"}, {3, "walls"}, {4, "cylinder"}});

  // Node types against positions; the corners are wall (wall wins over inflow/outflow).
  double area = 0;
  for (const double m : cell_measures(a)) {
    CHECK(m > 0);
    area += m;
  }
  for (long long v = 0; v < a.num_points(); ++v) {
    const double x = a.points[2 * v], y = a.points[2 * v + 1];
    int expected = normal;
    if (std::abs(x) < 1e-12) expected = inflow;
    if (std::abs(x - 1) < 1e-12) expected = outflow;
    if (std::abs(y) < 1e-12 || std::abs(y - 0.5) < 1e-12 ||
        std::abs(std::hypot(x - 0.3, y - 0.25) - 0.1) < 1e-12)
      expected = wall;
    INFO("node " << v << " at (" << x << ", " << y << ")");
    CHECK(a.node_type[v] == expected);
  }
  // The mesh covers the rectangle minus the polygon inscribed in the hole: each cylinder facet, a chord
  // of length s subtending theta = 2 asin(s / 2r), leaves out at most r^2 theta^3 / 12 (see [gmsh]).
  const double r = 0.1;
  double bound = 0;
  for (long long f = 0; f < a.num_facets(); ++f) {
    if (a.tag_names.at(a.facet_tags[f]) != "cylinder") continue;
    const int p = a.facets[2 * f], q = a.facets[2 * f + 1];
    const double theta = 2 * std::asin(std::hypot(a.points[2 * p] - a.points[2 * q],
                                                  a.points[2 * p + 1] - a.points[2 * q + 1]) /
                                       (2 * r));
    bound += r * r * theta * theta * theta / 12;
  }
  const double gap = area - (0.5 - M_PI * r * r);
  CHECK(gap >= -1e-12);
  CHECK(gap <= bound + 1e-12);
}

TEST_CASE("read_msh: a tetrahedral unit cube", "[mesh_io]") {
  const Mesh m = read_msh(fixture("box_v41.msh"), {{"inlet", inflow}, {"outlet", outflow}, {"walls", wall}});
  REQUIRE(m.dim == 3);
  CHECK(m.num_points() == 81);
  // The tetrahedra tile the cube exactly: volumes sum to 1 up to rounding (Nc terms of 1e-16).
  double volume = 0;
  for (const double v : cell_measures(m)) {
    CHECK(v > 0);
    volume += v;
  }
  CHECK(std::abs(volume - 1) <= 1e-13);
  // Outward normals are the cube's face normals: the axis the facet lies on, pointing away from the
  // centre.
  const std::vector<double> n = facet_normals(m, "box_v41.msh");
  for (long long f = 0; f < m.num_facets(); ++f) {
    double centroid[3] = {};
    for (int k = 0; k < 3; ++k)
      for (int d = 0; d < 3; ++d) centroid[d] += m.points[3 * m.facets[3 * f + k] + d] / 3;
    for (int d = 0; d < 3; ++d) {
      double expected = 0;
      if (std::abs(centroid[d]) < 1e-12) expected = -1;
      if (std::abs(centroid[d] - 1) < 1e-12) expected = 1;
      CHECK(n[3 * f + d] == Approx(expected).margin(1e-12));
    }
  }
  for (long long v = 0; v < m.num_points(); ++v) {
    const double x = m.points[3 * v], y = m.points[3 * v + 1], z = m.points[3 * v + 2];
    const auto on = [](double c) { return std::abs(c) < 1e-12 || std::abs(c - 1) < 1e-12; };
    int expected = normal;
    if (std::abs(x) < 1e-12) expected = inflow;
    if (std::abs(x - 1) < 1e-12) expected = outflow;
    if (on(y) || on(z)) expected = wall;
    CHECK(m.node_type[v] == expected);
  }
}

TEST_CASE("read_msh: broken files fail with Error(input) naming the file", "[mesh_io]") {
  fails_with("broken_truncated.msh", "Could not read");
  fails_with("broken_truncated_bin.msh", "Could not read");
  fails_with("broken_garbled.msh", "Could not read nodes");
  fails_with("broken_garbled_v22.msh", "gmsh");
  fails_with("broken_inverted.msh", "inverted");
  fails_with("broken_duplicate.msh", "same coordinates");
  fails_with("channel_quad.msh", "210 elements of type 'Quadrilateral 4'");
  fails_with("channel_p2.msh", "378 elements of type 'Triangle 6'");
  fails_with("does_not_exist.msh", "cannot open");
  // A group the table does not name: the message lists the table's names.
  fails_with("channel_v41.msh", "'cylinder'", {{"inlet", inflow}, {"outlet", outflow}, {"walls", wall}});
  fails_with("channel_v41.msh", "'inlet', 'outlet', 'walls'",
             {{"inlet", inflow}, {"outlet", outflow}, {"walls", wall}});
  // A group the table requires that the file lacks.
  std::map<std::string, int> more = kTable;
  more["airfoil"] = airfoil;
  fails_with("channel_v41.msh", "'airfoil'", more);
  std::map<std::string, int> bad = kTable;
  bad["walls"] = 9;
  fails_with("channel_v41.msh", "walls", bad);

  // Gmsh's global state survives the failures: good files still read, meshes still generate.
  CHECK(read_msh(fixture("channel_v41.msh"), kTable).num_points() == 221);
  ChannelGeometry g;
  g.size = 0.1;
  g.size_obstacle = 0.03;
  CHECK(generate_channel(g).num_points() > 0);
}
