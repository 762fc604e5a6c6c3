#pragma once
// Small meshes for the graph-model tests.
#include "harness.hpp"
#include "mesh/mesh.hpp"

namespace surro::test {

// An nx x ny grid of nodes on [0, nx - 1] x [0, ny - 1] (interior nodes shifted by up to 0.2 so
// edge lengths differ), two counter-clockwise triangles per square. Node types as a channel:
// left column INFLOW, right column OUTFLOW, top and bottom rows WALL, the rest NORMAL.
inline mesh::Mesh grid_mesh(int nx, int ny, unsigned seed) {
  mesh::Mesh m;
  m.dim = 2;
  const std::vector<double> jitter = layers::random_vector(std::size_t(2 * nx * ny), seed, -0.2, 0.2);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const bool interior = i > 0 && j > 0 && i < nx - 1 && j < ny - 1;
      const int q = j * nx + i;
      m.points.push_back(i + (interior ? jitter[2 * q] : 0.0));
      m.points.push_back(j + (interior ? jitter[2 * q + 1] : 0.0));
      m.node_type.push_back(i == 0                    ? mesh::inflow
                            : i == nx - 1             ? mesh::outflow
                            : (j == 0 || j == ny - 1) ? mesh::wall
                                                      : mesh::normal);
    }
  for (int j = 0; j + 1 < ny; ++j)
    for (int i = 0; i + 1 < nx; ++i) {
      const int a = j * nx + i, b = a + 1, c = a + nx + 1, d = a + nx;
      for (int v : {a, b, c, a, c, d}) m.cells.push_back(v);
    }
  return m;
}

}  // namespace surro::test
