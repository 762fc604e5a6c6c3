#pragma once
// Unstructured triangle meshes of a rectangle for the finite-element tests (until Gmsh meshes are
// available): an n_x x n_y grid of squares, interior nodes jittered by up to `jitter` h in each
// coordinate, each square cut along a diagonal picked pseudo-randomly. The generator is
// mt19937_64 with a fixed seed and our own mapping to [0, 1), so the mesh is the same everywhere.
// Boundary facets are tagged 1 bottom (y = y0), 2 right, 3 top, 4 left.
#include "mesh/mesh.hpp"

#include <cstdint>
#include <random>

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

}  // namespace surro::test
