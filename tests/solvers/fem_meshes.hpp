#pragma once
// Unstructured triangle meshes of a rectangle for the finite-element tests (until Gmsh meshes are
// available): an n_x x n_y grid of squares, interior nodes jittered by up to `jitter` h in each
// coordinate, each square cut along a diagonal picked pseudo-randomly. The generator is
// mt19937_64 with a fixed seed and our own mapping to [0, 1), so the mesh is the same everywhere.
// Boundary facets are tagged 1 bottom (y = y0), 2 right, 3 top, 4 left.
#include "mesh/mesh.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace surro::test {

inline mesh::Mesh jittered_rectangle(int nx, int ny, double x0, double y0, double lx, double ly,
                                     double jitter, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  auto uniform = [&]() { return static_cast<double>(gen() >> 11) * 0x1.0p-53; };  // [0, 1)
  mesh::Mesh m;
  m.dim = 2;
  const double hx = lx / nx, hy = ly / ny;
  auto id = [&](int i, int j) { return j * (nx + 1) + i; };
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i <= nx; ++i) {
      double x = x0 + i * hx, y = y0 + j * hy;
      const double dx = (2 * uniform() - 1) * jitter * hx, dy = (2 * uniform() - 1) * jitter * hy;
      if (i > 0 && i < nx) x += dx;
      if (j > 0 && j < ny) y += dy;
      m.points.push_back(x);
      m.points.push_back(y);
    }
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const int a = id(i, j), b = id(i + 1, j), c = id(i + 1, j + 1), d = id(i, j + 1);
      const int cells[2][2][3] = {{{a, b, c}, {a, c, d}}, {{a, b, d}, {b, c, d}}};  // counter-clockwise
      const int k = uniform() < 0.5 ? 0 : 1;
      for (int t = 0; t < 2; ++t)
        for (int v = 0; v < 3; ++v) m.cells.push_back(cells[k][t][v]);
    }
  auto facet = [&](int p, int q, int tag) {
    m.facets.push_back(p);
    m.facets.push_back(q);
    m.facet_tags.push_back(tag);
  };
  for (int i = 0; i < nx; ++i) facet(id(i, 0), id(i + 1, 0), 1);
  for (int j = 0; j < ny; ++j) facet(id(nx, j), id(nx, j + 1), 2);
  for (int i = nx; i > 0; --i) facet(id(i, ny), id(i - 1, ny), 3);
  for (int j = ny; j > 0; --j) facet(id(0, j), id(0, j - 1), 4);
  m.tag_names = {{1, "bottom"}, {2, "right"}, {3, "top"}, {4, "left"}};
  m.node_type.assign(static_cast<std::size_t>(m.num_points()), mesh::normal);
  return m;
}

inline mesh::Mesh jittered_square(int n, std::uint64_t seed) {
  return jittered_rectangle(n, n, 0.0, 0.0, 1.0, 1.0, 0.2, seed);
}

// The DFG channel [0, 2.2] x [0, 0.41] around the cylinder of radius 0.05 at (0.2, 0.2), for tests
// until Gmsh meshes are available: an O-grid (m cells per side of the box [0.1, 0.3]^2, m/2 graded
// radial layers) inside a tensor grid of spacing h = 0.2/m near the cylinder and 2h downstream of
// x = 0.3; quads cut along their shorter diagonal. Facet tags 1 inlet, 2 outlet, 3 walls,
// 4 cylinder (names as mesh::generate_channel); node types inflow, outflow, wall.
inline mesh::Mesh channel_mesh(int m) {
  const double cx = 0.2, cy = 0.2, r = 0.05, len = 2.2, height = 0.41, h = 0.2 / m;
  mesh::Mesh out;
  out.dim = 2;
  std::map<std::pair<long long, long long>, int> ids;
  auto node = [&](double x, double y) {
    const std::pair<long long, long long> key(std::llround(x * 1e9), std::llround(y * 1e9));
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    const int id = static_cast<int>(out.points.size() / 2);
    out.points.push_back(x);
    out.points.push_back(y);
    ids.emplace(key, id);
    return id;
  };
  auto triangle = [&](int a, int b, int c) {
    const double* pa = &out.points[2 * a];
    const double* pb = &out.points[2 * b];
    const double* pc = &out.points[2 * c];
    const double det = (pb[0] - pa[0]) * (pc[1] - pa[1]) - (pb[1] - pa[1]) * (pc[0] - pa[0]);
    if (det < 0) std::swap(b, c);
    out.cells.insert(out.cells.end(), {a, b, c});
  };
  auto quad = [&](const double(&q)[4][2]) {
    int v[4];
    for (int k = 0; k < 4; ++k) v[k] = node(q[k][0], q[k][1]);
    const double d02 = std::hypot(q[2][0] - q[0][0], q[2][1] - q[0][1]);
    const double d13 = std::hypot(q[3][0] - q[1][0], q[3][1] - q[1][1]);
    if (d02 <= d13) {
      triangle(v[0], v[1], v[2]);
      triangle(v[0], v[2], v[3]);
    } else {
      triangle(v[0], v[1], v[3]);
      triangle(v[1], v[2], v[3]);
    }
  };
  auto lines = [](double a, double b, int n) {
    std::vector<double> x;
    for (int i = 0; i <= n; ++i) x.push_back(i == n ? b : a + (b - a) * i / n);
    return x;
  };
  // Block boundaries are taken from the first block's end (the next block starts at its index 1),
  // so no two lines are a rounding error apart.
  auto append = [](std::vector<double>& to, const std::vector<double>& from) {
    to.insert(to.end(), from.begin() + (to.empty() ? 0 : 1), from.end());
  };
  std::vector<double> xs, ys;
  append(xs, lines(0.0, 0.1, std::max(1, int(std::lround(0.1 / h)))));
  append(xs, lines(0.1, 0.3, m));
  append(xs, lines(0.3, len, std::max(1, int(std::lround(1.9 / (2 * h))))));
  append(ys, lines(0.0, 0.1, std::max(1, int(std::lround(0.1 / h)))));
  append(ys, lines(0.1, 0.3, m));
  append(ys, lines(0.3, height, std::max(1, int(std::lround(0.11 / h)))));
  for (std::size_t j = 0; j + 1 < ys.size(); ++j)
    for (std::size_t i = 0; i + 1 < xs.size(); ++i) {
      const double xm = 0.5 * (xs[i] + xs[i + 1]), ym = 0.5 * (ys[j] + ys[j + 1]);
      if (xm > 0.1 && xm < 0.3 && ym > 0.1 && ym < 0.3) continue;  // the O-grid's box
      const double q[4][2] = {{xs[i], ys[j]}, {xs[i + 1], ys[j]}, {xs[i + 1], ys[j + 1]}, {xs[i], ys[j + 1]}};
      quad(q);
    }
  // O-grid: perimeter points of the box, counter-clockwise from (0.3, 0.1).
  std::vector<std::pair<double, double>> perimeter;
  for (int k = 0; k < m; ++k) perimeter.emplace_back(0.3, 0.1 + 0.2 * k / m);
  for (int k = 0; k < m; ++k) perimeter.emplace_back(0.3 - 0.2 * k / m, 0.3);
  for (int k = 0; k < m; ++k) perimeter.emplace_back(0.1, 0.3 - 0.2 * k / m);
  for (int k = 0; k < m; ++k) perimeter.emplace_back(0.1 + 0.2 * k / m, 0.1);
  const int nr = std::max(2, m / 2), np = 4 * m;
  auto ring = [&](int k, int j, double xy[2]) {
    const auto& s = perimeter[k % np];
    const double th = std::atan2(s.second - cy, s.first - cx);
    const double px = cx + r * std::cos(th), py = cy + r * std::sin(th);
    const double t = std::pow(double(j) / nr, 1.5);  // layers graded towards the cylinder
    xy[0] = j == nr ? s.first : px + t * (s.first - px);
    xy[1] = j == nr ? s.second : py + t * (s.second - py);
  };
  for (int k = 0; k < np; ++k)
    for (int j = 0; j < nr; ++j) {
      double q[4][2];
      ring(k, j, q[0]);
      ring(k + 1, j, q[1]);
      ring(k + 1, j + 1, q[2]);
      ring(k, j + 1, q[3]);
      quad(q);
    }
  // Boundary facets: cell sides that belong to one cell only.
  std::map<std::pair<int, int>, int> sides;
  for (std::size_t c = 0; c < out.cells.size() / 3; ++c)
    for (int s = 0; s < 3; ++s) {
      const int a = out.cells[3 * c + s], b = out.cells[3 * c + (s + 1) % 3];
      ++sides[{std::min(a, b), std::max(a, b)}];
    }
  out.node_type.assign(out.points.size() / 2, mesh::normal);
  for (const auto& [e, count] : sides) {
    if (count != 1) continue;
    const double x = 0.5 * (out.points[2 * e.first] + out.points[2 * e.second]);
    const double y = 0.5 * (out.points[2 * e.first + 1] + out.points[2 * e.second + 1]);
    const int tag = x < 1e-9 ? 1 : x > len - 1e-9 ? 2 : (y < 1e-9 || y > height - 1e-9) ? 3 : 4;
    out.facets.push_back(e.first);
    out.facets.push_back(e.second);
    out.facet_tags.push_back(tag);
  }
  for (std::size_t f = 0; f < out.facet_tags.size(); ++f)  // wall wins at corners: inflow/outflow first
    for (int k = 0; k < 2; ++k) {
      int& t = out.node_type[out.facets[2 * f + k]];
      const int tag = out.facet_tags[f];
      const int type = tag == 1 ? mesh::inflow : tag == 2 ? mesh::outflow : mesh::wall;
      if (t != mesh::wall) t = type;
    }
  out.tag_names = {{1, "inlet"}, {2, "outlet"}, {3, "walls"}, {4, "cylinder"}};
  return out;
}

}  // namespace surro::test
