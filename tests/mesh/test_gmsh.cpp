// The DFG channel generated through Gmsh: node types against positions, boundary facets against the
// cells' free sides, area against the exact domain, orientation, determinism and input validation.
#include "core/error.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/mesh.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace surro;
using namespace surro::mesh;

namespace {

// Coordinates come from Gmsh's exact straight lines and circle arcs: a node on a wall has the
// wall's coordinate up to rounding in the parametrization (a few ulps of the channel's size).
constexpr double kOn = 1e-12;

int expected_type(const ChannelGeometry& g, double x, double y) {
  const bool wall_y = std::abs(y) <= kOn || std::abs(y - g.height) <= kOn;
  const bool on_cylinder = std::abs(std::hypot(x - g.cx, y - g.cy) - g.radius) <= kOn;
  if (wall_y || on_cylinder) return wall;  // corners included: wall wins
  if (std::abs(x) <= kOn) return inflow;
  if (std::abs(x - g.length) <= kOn) return outflow;
  return normal;
}

// Sides that belong to exactly one cell, as sorted node pairs.
std::vector<std::pair<int, int>> free_sides(const Mesh& m) {
  std::map<std::pair<int, int>, int> count;
  for (long long c = 0; c < m.num_cells(); ++c)
    for (int s = 0; s < 3; ++s) {
      const int a = m.cells[3 * c + s], b = m.cells[3 * c + (s + 1) % 3];
      ++count[{std::min(a, b), std::max(a, b)}];
    }
  std::vector<std::pair<int, int>> out;
  for (const auto& kv : count)
    if (kv.second == 1) out.push_back(kv.first);
  return out;
}

}  // namespace

TEST_CASE("generate_channel: node types, facets, orientation and area of the DFG channel", "[gmsh]") {
  const ChannelGeometry g;
  const Mesh m = generate_channel(g);
  const long long nv = m.num_points();
  REQUIRE(m.dim == 2);
  // The defaults are sized like MeshGraphNets' CylinderFlow (1,876 to ~1,885 nodes).
  CHECK(nv >= 1800);
  CHECK(nv <= 2000);
  REQUIRE(m.node_type.size() == static_cast<std::size_t>(nv));

  // Every node is used by a cell (compact numbering 0..V-1).
  std::vector<char> used(static_cast<std::size_t>(nv), 0);
  for (const int v : m.cells) {
    REQUIRE(v >= 0);
    REQUIRE(v < nv);
    used[static_cast<std::size_t>(v)] = 1;
  }
  for (long long v = 0; v < nv; ++v) CHECK(used[static_cast<std::size_t>(v)]);

  // Node types follow from positions alone.
  int corners = 0, counts[node_type_count] = {};
  for (long long v = 0; v < nv; ++v) {
    const double x = m.points[2 * v], y = m.points[2 * v + 1];
    INFO("node " << v << " at (" << x << ", " << y << ")");
    CHECK(m.node_type[v] == expected_type(g, x, y));
    ++counts[m.node_type[v]];
    if ((std::abs(x) <= kOn || std::abs(x - g.length) <= kOn) &&
        (std::abs(y) <= kOn || std::abs(y - g.height) <= kOn)) {
      ++corners;
      CHECK(m.node_type[v] == wall);
    }
  }
  CHECK(corners == 4);
  CHECK(counts[inflow] > 0);
  CHECK(counts[outflow] > 0);

  // The tagged facets are exactly the cells' free sides, each with the group its position implies.
  REQUIRE(m.facet_tags.size() == static_cast<std::size_t>(m.num_facets()));
  CHECK(m.tag_names.at(inlet_tag) == "inlet");
  CHECK(m.tag_names.at(outlet_tag) == "outlet");
  CHECK(m.tag_names.at(walls_tag) == "walls");
  CHECK(m.tag_names.at(cylinder_tag) == "cylinder");
  std::vector<std::pair<int, int>> facets;
  for (long long f = 0; f < m.num_facets(); ++f) {
    const int a = m.facets[2 * f], b = m.facets[2 * f + 1];
    facets.emplace_back(std::min(a, b), std::max(a, b));
    const double mx = 0.5 * (m.points[2 * a] + m.points[2 * b]);
    const double my = 0.5 * (m.points[2 * a + 1] + m.points[2 * b + 1]);
    const int tag = m.facet_tags[f];
    if (tag == inlet_tag) CHECK(std::abs(mx) <= kOn);
    if (tag == outlet_tag) CHECK(std::abs(mx - g.length) <= kOn);
    if (tag == walls_tag) CHECK(std::min(std::abs(my), std::abs(my - g.height)) <= kOn);
    if (tag == cylinder_tag) CHECK(std::hypot(mx - g.cx, my - g.cy) < g.radius);
  }
  std::sort(facets.begin(), facets.end());
  CHECK(facets == free_sides(m));

  // Orientation: every triangle counter-clockwise.
  const std::vector<double> area = cell_measures(m);
  double total = 0;
  for (std::size_t c = 0; c < area.size(); ++c) {
    INFO("cell " << c);
    CHECK(area[c] > 0);
    total += area[c];
  }

  // Area. The mesh covers the rectangle minus the polygon inscribed in the circle, whose chords are the
  // cylinder facets. A chord of length s subtends theta = 2 asin(s / 2r) and leaves out the circular
  // segment r^2 (theta - sin theta) / 2 <= r^2 theta^3 / 12. So
  //   0 <= total - (L H - pi r^2) = sum_segments r^2 (theta - sin theta) / 2 <= sum r^2 theta^3 / 12,
  // and the middle equality holds to rounding: Nc terms of relative size 1e-16 (bound 1e-12).
  const double r = g.radius;
  double segments = 0, bound = 0;
  for (long long f = 0; f < m.num_facets(); ++f) {
    if (m.facet_tags[f] != cylinder_tag) continue;
    const int a = m.facets[2 * f], b = m.facets[2 * f + 1];
    CHECK(std::abs(std::hypot(m.points[2 * a] - g.cx, m.points[2 * a + 1] - g.cy) - r) <= kOn);
    const double s = std::hypot(m.points[2 * a] - m.points[2 * b], m.points[2 * a + 1] - m.points[2 * b + 1]);
    const double theta = 2 * std::asin(s / (2 * r));
    segments += r * r * (theta - std::sin(theta)) / 2;
    bound += r * r * theta * theta * theta / 12;
  }
  const double gap = total - (g.length * g.height - M_PI * r * r);
  CHECK(gap >= -1e-12);
  CHECK(gap <= bound + 1e-12);
  CHECK(std::abs(gap - segments) <= 1e-12);
}

TEST_CASE("generate_channel: deterministic, and refinement follows the size settings", "[gmsh]") {
  ChannelGeometry g;
  const Mesh a = generate_channel(g);
  const Mesh b = generate_channel(g);
  CHECK(a.points == b.points);
  CHECK(a.cells == b.cells);
  CHECK(a.facets == b.facets);
  CHECK(a.facet_tags == b.facet_tags);
  CHECK(a.node_type == b.node_type);
  CHECK(a.tag_names == b.tag_names);

  // Halving both sizes roughly quadruples the node count (2D: nodes ~ area / size^2).
  g.size /= 2;
  g.size_obstacle /= 2;
  const Mesh fine = generate_channel(g);
  CHECK(fine.num_points() > 3 * a.num_points());
  CHECK(fine.num_points() < 5 * a.num_points());
}

TEST_CASE("generate_channel: invalid geometry is a usage error naming the key", "[gmsh]") {
  const auto fails_with = [](ChannelGeometry g, const std::string& key) {
    try {
      generate_channel(g);
      FAIL("no error for " << key);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK_THAT(e.what(), Catch::Contains(key));
    }
  };
  ChannelGeometry g;
  g.radius = 0;
  fails_with(g, "radius");
  g = ChannelGeometry{};
  g.size = -1;
  fails_with(g, "size");
  g = ChannelGeometry{};
  g.size_obstacle = 0.1;  // larger than size
  fails_with(g, "size_obstacle");
  g = ChannelGeometry{};
  g.cy = 0.38;  // cylinder crosses the top wall
  fails_with(g, "cy");
  g = ChannelGeometry{};
  g.cx = 2.18;
  fails_with(g, "cx");
}
