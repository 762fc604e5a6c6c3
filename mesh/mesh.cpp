#include "mesh/mesh.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace surro::mesh {
namespace {

// Local node pairs of a cell's sides (see cell_edges).
constexpr std::array<std::array<int, 2>, 3> kTriangleSides{{{0, 1}, {1, 2}, {2, 0}}};
constexpr std::array<std::array<int, 2>, 6> kTetSides{{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}};

template <class F>
void for_each_side(const Mesh& mesh, F&& f) {
  SURRO_REQUIRE(mesh.dim == 2 || mesh.dim == 3, "mesh: dim = " << mesh.dim << ": expected 2 or 3");
  const int nk = mesh.nodes_per_cell();
  const long long nc = mesh.num_cells();
  for (long long c = 0; c < nc; ++c) {
    const int* v = &mesh.cells[static_cast<std::size_t>(c * nk)];
    if (mesh.dim == 2) {
      for (int s = 0; s < 3; ++s) f(c, s, v[kTriangleSides[s][0]], v[kTriangleSides[s][1]]);
    } else {
      for (int s = 0; s < 6; ++s) f(c, s, v[kTetSides[s][0]], v[kTetSides[s][1]]);
    }
  }
}

}  // namespace

std::vector<int> unique_edges(const Mesh& mesh) {
  std::vector<std::pair<int, int>> pairs;
  pairs.reserve(static_cast<std::size_t>(mesh.num_cells()) * (mesh.dim == 2 ? 3 : 6));
  for_each_side(mesh,
                [&](long long, int, int a, int b) { pairs.emplace_back(std::min(a, b), std::max(a, b)); });
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<int> edges;
  edges.reserve(2 * pairs.size());
  for (const auto& p : pairs) {
    edges.push_back(p.first);
    edges.push_back(p.second);
  }
  return edges;
}

std::vector<int> cell_edges(const Mesh& mesh, const std::vector<int>& edges) {
  const int sides = mesh.dim == 2 ? 3 : 6;
  std::vector<int> out(static_cast<std::size_t>(mesh.num_cells()) * sides, -1);
  const std::size_t ne = edges.size() / 2;
  for_each_side(mesh, [&](long long c, int s, int a, int b) {
    const std::pair<int, int> key(std::min(a, b), std::max(a, b));
    // edges is sorted lexicographically: binary search over its (E) pairs.
    std::size_t lo = 0, hi = ne;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      const std::pair<int, int> m(edges[2 * mid], edges[2 * mid + 1]);
      if (m < key)
        lo = mid + 1;
      else
        hi = mid;
    }
    SURRO_REQUIRE(lo < ne && edges[2 * lo] == key.first && edges[2 * lo + 1] == key.second,
                  "cell_edges: cell " << c << " side (" << a << ", " << b
                                      << ") is not in the edge list: expected unique_edges(mesh)");
    out[static_cast<std::size_t>(c) * sides + s] = static_cast<int>(lo);
  });
  return out;
}

std::vector<double> cell_measures(const Mesh& mesh) {
  SURRO_REQUIRE(mesh.dim == 2 || mesh.dim == 3, "cell_measures: dim = " << mesh.dim << ": expected 2 or 3");
  const int dim = mesh.dim;
  const int nk = mesh.nodes_per_cell();
  const long long nc = mesh.num_cells();
  std::vector<double> out(static_cast<std::size_t>(nc));
  for (long long c = 0; c < nc; ++c) {
    const int* v = &mesh.cells[static_cast<std::size_t>(c * nk)];
    const double* p0 = &mesh.points[static_cast<std::size_t>(v[0]) * dim];
    // Edge vectors from node 0: (nk - 1, dim).
    double a[3][3] = {};
    for (int k = 1; k < nk; ++k)
      for (int d = 0; d < dim; ++d)
        a[k - 1][d] = mesh.points[static_cast<std::size_t>(v[k]) * dim + d] - p0[d];
    if (dim == 2) {
      out[static_cast<std::size_t>(c)] = 0.5 * (a[0][0] * a[1][1] - a[0][1] * a[1][0]);
    } else {
      const double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                         a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                         a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
      out[static_cast<std::size_t>(c)] = det / 6.0;
    }
  }
  return out;
}

}  // namespace surro::mesh
