#include "mesh/mesh.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

// Cell sides of codimension 1 (triangle edges, tetrahedron faces), oriented outward: a positive
// cell's side s runs counter-clockwise (2D) or has its right-hand normal pointing out of the cell (3D).
constexpr std::array<std::array<int, 3>, 3> kTriangleFacets{{{0, 1, -1}, {1, 2, -1}, {2, 0, -1}}};
constexpr std::array<int, 3> kTriangleOpposite{2, 0, 1};
constexpr std::array<std::array<int, 3>, 4> kTetFacets{{{1, 2, 3}, {0, 3, 2}, {0, 1, 3}, {0, 2, 1}}};
constexpr std::array<int, 4> kTetOpposite{0, 1, 2, 3};

// One side of one cell: its sorted nodes (key, the third -1 in 2D), the parity of the outward
// orientation relative to the sorted order (+1 even, -1 odd) and the cell's node opposite the side.
struct SideRecord {
  std::array<int, 3> key;
  long long cell;
  int sign;
  int opposite;
  bool operator<(const SideRecord& o) const { return key < o.key || (key == o.key && cell < o.cell); }
};

std::array<int, 3> sorted_key(std::array<int, 3> v, int n, int* sign) {
  int swaps = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j + 1 < n - i; ++j)
      if (v[j] > v[j + 1]) {
        std::swap(v[j], v[j + 1]);
        ++swaps;
      }
  if (sign) *sign = swaps % 2 == 0 ? 1 : -1;
  return v;
}

// All cells' sides (Nc * (dim + 1)), sorted by key then cell. Node indices must be in range.
std::vector<SideRecord> side_records(const Mesh& mesh) {
  const int nk = mesh.nodes_per_cell();
  const int n = mesh.dim;  // nodes per side
  std::vector<SideRecord> out;
  out.reserve(mesh.cells.size());
  for (long long c = 0; c < mesh.num_cells(); ++c) {
    const int* v = &mesh.cells[static_cast<std::size_t>(c * nk)];
    for (int s = 0; s < nk; ++s) {
      const auto& local = mesh.dim == 2 ? kTriangleFacets[s] : kTetFacets[s];
      std::array<int, 3> nodes{v[local[0]], v[local[1]], n == 3 ? v[local[2]] : -1};
      SideRecord r;
      r.key = sorted_key(nodes, n, &r.sign);
      r.cell = c;
      r.opposite = v[mesh.dim == 2 ? kTriangleOpposite[s] : kTetOpposite[s]];
      out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The records [first, last) of side `key` in sorted records.
std::pair<std::size_t, std::size_t> find_side(const std::vector<SideRecord>& records,
                                              const std::array<int, 3>& key) {
  const auto lo =
      std::lower_bound(records.begin(), records.end(), key,
                       [](const SideRecord& r, const std::array<int, 3>& k) { return r.key < k; });
  auto hi = lo;
  while (hi != records.end() && hi->key == key) ++hi;
  return {static_cast<std::size_t>(lo - records.begin()), static_cast<std::size_t>(hi - records.begin())};
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

Graph edge_graph(const std::vector<int>& edges, long long num_nodes) {
  SURRO_REQUIRE(edges.size() % 2 == 0,
                "edge_graph: edges has " << edges.size() << " entries: expected (E, 2)");
  // Directed pairs (receiver, sender), both directions of every edge.
  std::vector<std::pair<int, int>> pairs;
  pairs.reserve(edges.size());
  for (std::size_t e = 0; e < edges.size() / 2; ++e) {
    const int a = edges[2 * e], b = edges[2 * e + 1];
    SURRO_REQUIRE(
        a >= 0 && b >= 0 && a < num_nodes && b < num_nodes,
        "edge_graph: edge " << e << " = (" << a << ", " << b << "): expected nodes in 0.." << num_nodes - 1);
    SURRO_REQUIRE(a != b, "edge_graph: edge " << e << " = (" << a << ", " << b << "): expected no self-loop");
    pairs.emplace_back(a, b);
    pairs.emplace_back(b, a);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());

  Graph g;
  const std::size_t ne = pairs.size();
  g.receivers.resize(ne);
  g.senders.resize(ne);
  g.by_receiver.offsets.assign(static_cast<std::size_t>(num_nodes) + 1, 0);
  g.by_sender.offsets.assign(static_cast<std::size_t>(num_nodes) + 1, 0);
  for (std::size_t e = 0; e < ne; ++e) {
    g.receivers[e] = pairs[e].first;
    g.senders[e] = pairs[e].second;
    ++g.by_receiver.offsets[static_cast<std::size_t>(pairs[e].first) + 1];
    ++g.by_sender.offsets[static_cast<std::size_t>(pairs[e].second) + 1];
  }
  for (long long i = 0; i < num_nodes; ++i) {
    g.by_receiver.offsets[i + 1] += g.by_receiver.offsets[i];
    g.by_sender.offsets[i + 1] += g.by_sender.offsets[i];
  }
  g.by_receiver.indices = g.senders;
  // Sender order: a stable counting sort of the receiver-ordered edges by sender keeps each sender's
  // receivers increasing, i.e. edges sorted by (sender, receiver).
  g.by_sender.indices.resize(ne);
  g.sender_to_receiver.resize(ne);
  std::vector<long long> next(g.by_sender.offsets.begin(), g.by_sender.offsets.end() - 1);
  for (std::size_t e = 0; e < ne; ++e) {
    const long long p = next[static_cast<std::size_t>(g.senders[e])]++;
    g.by_sender.indices[static_cast<std::size_t>(p)] = g.receivers[e];
    g.sender_to_receiver[static_cast<std::size_t>(p)] = static_cast<long long>(e);
  }
  return g;
}

Graph mesh_graph(const Mesh& mesh) {
  return edge_graph(unique_edges(mesh), mesh.num_points());
}

Csr k_hop(const Csr& adjacency, int k) {
  SURRO_REQUIRE(k >= 1, "k_hop: k = " << k << ": expected >= 1");
  const long long nv = adjacency.rows();
  SURRO_REQUIRE(nv >= 0, "k_hop: adjacency has no offsets: expected (V + 1)");
  Csr out;
  out.offsets.assign(static_cast<std::size_t>(nv) + 1, 0);
  // Breadth-first search to depth k from every node; `mark` holds the last source that reached a node,
  // so it is reset implicitly between sources.
  std::vector<long long> mark(static_cast<std::size_t>(nv), -1);
  std::vector<int> frontier, next, reached;
  for (long long i = 0; i < nv; ++i) {
    mark[static_cast<std::size_t>(i)] = i;
    frontier.assign(1, static_cast<int>(i));
    reached.clear();
    for (int depth = 0; depth < k && !frontier.empty(); ++depth) {
      next.clear();
      for (const int u : frontier)
        for (long long p = adjacency.offsets[u]; p < adjacency.offsets[u + 1]; ++p) {
          const int w = adjacency.indices[static_cast<std::size_t>(p)];
          SURRO_REQUIRE(w >= 0 && w < nv,
                        "k_hop: adjacency row " << u << " holds " << w << ": expected 0.." << nv - 1);
          if (mark[static_cast<std::size_t>(w)] == i) continue;
          mark[static_cast<std::size_t>(w)] = i;
          next.push_back(w);
        }
      reached.insert(reached.end(), next.begin(), next.end());
      frontier.swap(next);
    }
    std::sort(reached.begin(), reached.end());
    out.indices.insert(out.indices.end(), reached.begin(), reached.end());
    out.offsets[static_cast<std::size_t>(i) + 1] = static_cast<long long>(out.indices.size());
  }
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

namespace surro::mesh {
namespace {

double squared_distance(const Mesh& mesh, int a, int b) {
  double s = 0;
  for (int d = 0; d < mesh.dim; ++d) {
    const double t = mesh.points[static_cast<std::size_t>(a) * mesh.dim + d] -
                     mesh.points[static_cast<std::size_t>(b) * mesh.dim + d];
    s += t * t;
  }
  return s;
}

// Squared edge lengths of cell c: their sum and maximum.
std::pair<double, double> edge_lengths(const Mesh& mesh, long long c) {
  const int nk = mesh.nodes_per_cell();
  const int* v = &mesh.cells[static_cast<std::size_t>(c * nk)];
  double sum = 0, longest = 0;
  for (int i = 0; i < nk; ++i)
    for (int j = i + 1; j < nk; ++j) {
      const double l2 = squared_distance(mesh, v[i], v[j]);
      sum += l2;
      longest = std::max(longest, l2);
    }
  return {sum, longest};
}

std::string cell_text(const Mesh& mesh, long long c) {
  std::ostringstream os;
  const int nk = mesh.nodes_per_cell();
  os << "cell " << c << " (nodes";
  for (int k = 0; k < nk; ++k) os << (k ? ", " : " ") << mesh.cells[static_cast<std::size_t>(c * nk + k)];
  os << ")";
  return os.str();
}

// Sizes, index ranges and node types.
void validate_arrays(const Mesh& mesh, const std::string& source) {
  if (mesh.dim != 2 && mesh.dim != 3)
    SURRO_THROW(ErrorKind::input, source << ": dim = " << mesh.dim << ": expected 2 or 3");
  const int nk = mesh.nodes_per_cell();
  if (mesh.points.size() % mesh.dim != 0 || mesh.points.empty())
    SURRO_THROW(ErrorKind::input, source << ": points has " << mesh.points.size() << " values: expected (V, "
                                         << mesh.dim << ") with V > 0");
  if (mesh.cells.size() % nk != 0 || mesh.cells.empty())
    SURRO_THROW(ErrorKind::input, source << ": cells has " << mesh.cells.size() << " values: expected (Nc, "
                                         << nk << ") with Nc > 0");
  if (mesh.facets.size() % mesh.dim != 0 || mesh.facet_tags.size() != mesh.facets.size() / mesh.dim)
    SURRO_THROW(ErrorKind::input, source << ": facets has " << mesh.facets.size() << " values and facet_tags "
                                         << mesh.facet_tags.size() << ": expected (Nf, " << mesh.dim
                                         << ") and (Nf)");
  const long long nv = mesh.num_points();
  for (std::size_t i = 0; i < mesh.cells.size(); ++i)
    if (mesh.cells[i] < 0 || mesh.cells[i] >= nv)
      SURRO_THROW(ErrorKind::input, source << ": cell " << i / nk << " node " << i % nk << " = "
                                           << mesh.cells[i] << ": expected a node index in 0.." << nv - 1);
  for (std::size_t i = 0; i < mesh.facets.size(); ++i)
    if (mesh.facets[i] < 0 || mesh.facets[i] >= nv)
      SURRO_THROW(ErrorKind::input, source << ": facet " << i / mesh.dim << " node " << i % mesh.dim << " = "
                                           << mesh.facets[i] << ": expected a node index in 0.." << nv - 1);
  if (!mesh.node_type.empty() && static_cast<long long>(mesh.node_type.size()) != nv)
    SURRO_THROW(ErrorKind::input, source << ": node_type has " << mesh.node_type.size()
                                         << " entries: expected one per node (" << nv << ")");
  for (std::size_t v = 0; v < mesh.node_type.size(); ++v)
    if (mesh.node_type[v] < 0 || mesh.node_type[v] >= node_type_count)
      SURRO_THROW(ErrorKind::input, source << ": node " << v << ": node type " << mesh.node_type[v]
                                           << ": expected 0.." << node_type_count - 1);
}

// Duplicate and unused nodes.
void validate_nodes(const Mesh& mesh, const std::string& source) {
  const long long nv = mesh.num_points();
  const int dim = mesh.dim;
  std::vector<int> order(static_cast<std::size_t>(nv));
  for (long long v = 0; v < nv; ++v) order[static_cast<std::size_t>(v)] = static_cast<int>(v);
  const auto coords = [&](int v) { return &mesh.points[static_cast<std::size_t>(v) * dim]; };
  const auto less = [&](int a, int b) {
    return std::lexicographical_compare(coords(a), coords(a) + dim, coords(b), coords(b) + dim) ||
           (std::equal(coords(a), coords(a) + dim, coords(b)) && a < b);
  };
  std::sort(order.begin(), order.end(), less);
  for (std::size_t i = 0; i + 1 < order.size(); ++i)
    if (std::equal(coords(order[i]), coords(order[i]) + dim, coords(order[i + 1]))) {
      std::ostringstream at;
      for (int d = 0; d < dim; ++d) at << (d ? ", " : "") << coords(order[i])[d];
      SURRO_THROW(ErrorKind::input, source << ": nodes " << order[i] << " and " << order[i + 1]
                                           << " have the same coordinates (" << at.str()
                                           << "): expected distinct nodes");
    }
  std::vector<char> used(static_cast<std::size_t>(nv), 0);
  for (const int v : mesh.cells) used[static_cast<std::size_t>(v)] = 1;
  for (long long v = 0; v < nv; ++v)
    if (!used[static_cast<std::size_t>(v)])
      SURRO_THROW(ErrorKind::input,
                  source << ": node " << v << " is in no cell: expected every node in a cell");
}

// Inverted or degenerate cells.
void validate_cells(const Mesh& mesh, const std::string& source) {
  const int nk = mesh.nodes_per_cell();
  const std::vector<double> measure = cell_measures(mesh);
  const char* what = mesh.dim == 2 ? "area" : "volume";
  for (long long c = 0; c < mesh.num_cells(); ++c) {
    const int* v = &mesh.cells[static_cast<std::size_t>(c * nk)];
    for (int i = 0; i < nk; ++i)
      for (int j = i + 1; j < nk; ++j)
        if (v[i] == v[j])
          SURRO_THROW(ErrorKind::input, source << ": " << cell_text(mesh, c) << " repeats node " << v[i]
                                               << ": expected " << nk << " distinct nodes");
    // Degenerate: |measure| below 1e-12 of the longest edge's length^dim (rounding of the determinant).
    const double longest = std::sqrt(edge_lengths(mesh, c).second);
    const double m = measure[static_cast<std::size_t>(c)];
    if (std::abs(m) <= 1e-12 * std::pow(longest, mesh.dim))
      SURRO_THROW(ErrorKind::input, source << ": " << cell_text(mesh, c) << " is degenerate: " << what
                                           << " = " << m << ": expected > 0");
    if (m < 0)
      SURRO_THROW(ErrorKind::input, source
                                        << ": " << cell_text(mesh, c) << " is inverted: signed " << what
                                        << " = " << m << ": expected > 0 (nodes "
                                        << (mesh.dim == 2 ? "counter-clockwise)" : "positively oriented)"));
  }
}

std::string side_text(const std::array<int, 3>& key, int n) {
  std::ostringstream os;
  os << "(";
  for (int i = 0; i < n; ++i) os << (i ? ", " : "") << key[static_cast<std::size_t>(i)];
  os << ")";
  return os.str();
}

// Manifold sides and boundary facets.
void validate_sides(const Mesh& mesh, const std::string& source) {
  const std::vector<SideRecord> records = side_records(mesh);
  const char* side = mesh.dim == 2 ? "side" : "face";
  for (std::size_t i = 0; i < records.size();) {
    std::size_t j = i + 1;
    while (j < records.size() && records[j].key == records[i].key) ++j;
    if (j - i > 2)
      SURRO_THROW(ErrorKind::input, source << ": " << side << " " << side_text(records[i].key, mesh.dim)
                                           << " is shared by " << j - i << " cells (" << records[i].cell
                                           << ", " << records[i + 1].cell << ", " << records[i + 2].cell
                                           << ", ...): expected at most 2 (a manifold mesh)");
    if (j - i == 2 && records[i].sign == records[i + 1].sign)
      SURRO_THROW(ErrorKind::input, source
                                        << ": cells " << records[i].cell << " and " << records[i + 1].cell
                                        << " lie on the same side of their shared " << side << " "
                                        << side_text(records[i].key, mesh.dim)
                                        << ": expected them on opposite sides (the mesh folds over itself: "
                                        << "an inverted cell)");
    i = j;
  }
  for (long long f = 0; f < mesh.num_facets(); ++f) {
    std::array<int, 3> nodes{-1, -1, -1};
    for (int k = 0; k < mesh.dim; ++k) nodes[k] = mesh.facets[static_cast<std::size_t>(f * mesh.dim + k)];
    const std::array<int, 3> key = sorted_key(nodes, mesh.dim, nullptr);
    const auto range = find_side(records, key);
    if (range.second - range.first != 1)
      SURRO_THROW(ErrorKind::input, source << ": boundary facet " << f << " " << side_text(key, mesh.dim)
                                           << " is a side of " << range.second - range.first
                                           << " cells: expected exactly 1");
  }
}

}  // namespace

std::vector<double> cell_quality(const Mesh& mesh) {
  const std::vector<double> measure = cell_measures(mesh);
  std::vector<double> q(measure.size());
  for (std::size_t c = 0; c < measure.size(); ++c) {
    const double sum = edge_lengths(mesh, static_cast<long long>(c)).first;
    if (sum <= 0) continue;  // all nodes coincide: quality 0
    if (mesh.dim == 2) {
      q[c] = 4 * std::sqrt(3.0) * measure[c] / sum;
    } else {
      const double rms = std::sqrt(sum / 6);
      q[c] = 6 * std::sqrt(2.0) * measure[c] / (rms * rms * rms);
    }
  }
  return q;
}

std::vector<double> facet_normals(const Mesh& mesh, const std::string& source) {
  const std::vector<SideRecord> records = side_records(mesh);
  const int dim = mesh.dim;
  std::vector<double> normals(mesh.facets.size());
  const auto x = [&](int v, int d) { return mesh.points[static_cast<std::size_t>(v) * dim + d]; };
  for (long long f = 0; f < mesh.num_facets(); ++f) {
    const int* v = &mesh.facets[static_cast<std::size_t>(f * dim)];
    std::array<int, 3> nodes{v[0], v[1], dim == 3 ? v[2] : -1};
    const auto range = find_side(records, sorted_key(nodes, dim, nullptr));
    if (range.first == range.second)
      SURRO_THROW(ErrorKind::input, source << ": boundary facet " << f << " " << side_text(nodes, dim)
                                           << " is a side of no cell: expected a side of exactly one");
    double n[3] = {};
    if (dim == 2) {
      n[0] = x(v[1], 1) - x(v[0], 1);
      n[1] = -(x(v[1], 0) - x(v[0], 0));
    } else {
      double a[3], b[3];
      for (int d = 0; d < 3; ++d) {
        a[d] = x(v[1], d) - x(v[0], d);
        b[d] = x(v[2], d) - x(v[0], d);
      }
      n[0] = a[1] * b[2] - a[2] * b[1];
      n[1] = a[2] * b[0] - a[0] * b[2];
      n[2] = a[0] * b[1] - a[1] * b[0];
    }
    // Outward: away from the cell's node opposite the facet.
    const int opposite = records[range.first].opposite;
    double norm = 0, inward = 0;
    for (int d = 0; d < dim; ++d) {
      norm += n[d] * n[d];
      inward += n[d] * (x(opposite, d) - x(v[0], d));
    }
    norm = std::sqrt(norm);
    const double scale = (inward > 0 ? -1.0 : 1.0) / norm;
    for (int d = 0; d < dim; ++d) normals[static_cast<std::size_t>(f * dim + d)] = n[d] * scale;
  }
  return normals;
}

void validate_mesh(const Mesh& mesh, const std::string& source) {
  validate_arrays(mesh, source);
  validate_nodes(mesh, source);
  validate_cells(mesh, source);
  validate_sides(mesh, source);
}

}  // namespace surro::mesh
