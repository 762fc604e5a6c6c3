#include "operators/attention_masks.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <sstream>

namespace surro::op {

namespace attention_masks_impl {

// Column w of adjacency row u, range-checked (the adjacency comes from a mesh but may be any CSR).
int neighbour(const mesh::Csr& a, int u, long long p) {
  const int w = a.indices[static_cast<std::size_t>(p)];
  SURRO_REQUIRE(w >= 0 && w < a.rows(),
                "attention mask: adjacency row " << u << " holds " << w << ": expected 0.." << a.rows() - 1);
  return w;
}

// Hop distances (V) from `source` over the whole graph; unreachable nodes keep `far`.
void hop_distances(const mesh::Csr& a, int source, int far, std::vector<int>& dist) {
  dist.assign(static_cast<std::size_t>(a.rows()), far);
  std::vector<int> frontier{source}, next;
  dist[static_cast<std::size_t>(source)] = 0;
  for (int depth = 1; !frontier.empty(); ++depth) {
    next.clear();
    for (const int u : frontier)
      for (long long p = a.offsets[u]; p < a.offsets[u + 1]; ++p) {
        const int w = neighbour(a, u, p);
        if (dist[static_cast<std::size_t>(w)] != far) continue;
        dist[static_cast<std::size_t>(w)] = depth;
        next.push_back(w);
      }
    frontier.swap(next);
  }
}

}  // namespace attention_masks_impl

MaskSpec MaskSpec::hops(int k) {
  MaskSpec s;
  s.kind = k == 1 ? Kind::adjacency : Kind::k_hop;
  s.k = k;
  return s;
}

MaskSpec MaskSpec::dilated(int d, int r, int global_nodes) {
  MaskSpec s;
  s.kind = Kind::dilated;
  s.dilation = d;
  s.radius = r;
  s.global_nodes = global_nodes;
  return s;
}

std::string MaskSpec::describe() const {
  std::ostringstream os;
  switch (kind) {
    case Kind::adjacency:
      os << "adjacency";
      break;
    case Kind::k_hop:
      os << (k == 1 ? std::string("adjacency") : std::to_string(k) + "-hop");
      break;
    case Kind::dilated:
      os << "dilated (d " << dilation << ", r " << radius << ")";
      break;
  }
  if (global_nodes > 0) os << " + " << global_nodes << " global node" << (global_nodes == 1 ? "" : "s");
  return os.str();
}

void MaskSpec::validate(const std::string& where) const {
  if (kind == Kind::k_hop && k < 1)
    SURRO_THROW(ErrorKind::usage, where << ": k = " << k << ": expected >= 1");
  if (kind == Kind::dilated && (dilation < 1 || radius < 1))
    SURRO_THROW(ErrorKind::usage,
                where << ": dilation " << dilation << ", radius " << radius << ": expected both >= 1");
  if (global_nodes < 0)
    SURRO_THROW(ErrorKind::usage, where << ": global_nodes = " << global_nodes << ": expected >= 0");
}

bool operator==(const MaskSpec& a, const MaskSpec& b) {
  using K = MaskSpec::Kind;
  // k_hop(1) is the adjacency.
  auto norm = [](const MaskSpec& s) { return s.kind == K::k_hop && s.k == 1 ? K::adjacency : s.kind; };
  if (norm(a) != norm(b) || a.global_nodes != b.global_nodes) return false;
  switch (norm(a)) {
    case K::adjacency:
      return true;
    case K::k_hop:
      return a.k == b.k;
    case K::dilated:
      return a.dilation == b.dilation && a.radius == b.radius;
  }
  return false;
}

mesh::Csr dilated_hops(const mesh::Csr& adjacency, int d, int r) {
  using attention_masks_impl::neighbour;
  SURRO_REQUIRE(d >= 1 && r >= 1, "dilated_hops: d = " << d << ", r = " << r << ": expected both >= 1");
  const long long nv = adjacency.rows();
  SURRO_REQUIRE(nv >= 0, "dilated_hops: adjacency has no offsets: expected (V + 1)");
  mesh::Csr out;
  out.offsets.assign(static_cast<std::size_t>(nv) + 1, 0);
  // Breadth-first search to depth r from every node, ring by ring: `mark` holds the last source
  // that reached a node (reset implicitly between sources); ring h is kept when h = 1 or d | h.
  std::vector<long long> mark(static_cast<std::size_t>(nv), -1);
  std::vector<int> frontier, next, kept;
  for (long long i = 0; i < nv; ++i) {
    mark[static_cast<std::size_t>(i)] = i;
    frontier.assign(1, static_cast<int>(i));
    kept.clear();
    for (int h = 1; h <= r && !frontier.empty(); ++h) {
      next.clear();
      for (const int u : frontier)
        for (long long p = adjacency.offsets[u]; p < adjacency.offsets[u + 1]; ++p) {
          const int w = neighbour(adjacency, u, p);
          if (mark[static_cast<std::size_t>(w)] == i) continue;
          mark[static_cast<std::size_t>(w)] = i;
          next.push_back(w);
        }
      if (h == 1 || h % d == 0) kept.insert(kept.end(), next.begin(), next.end());
      frontier.swap(next);
    }
    std::sort(kept.begin(), kept.end());
    out.indices.insert(out.indices.end(), kept.begin(), kept.end());
    out.offsets[static_cast<std::size_t>(i) + 1] = static_cast<long long>(out.indices.size());
  }
  return out;
}

std::vector<int> global_node_choice(const mesh::Csr& adjacency, const std::vector<int>& node_type, int G) {
  SURRO_REQUIRE(G >= 0, "global nodes: G = " << G << ": expected >= 0");
  const long long nv = adjacency.rows();
  SURRO_REQUIRE(node_type.empty() || static_cast<long long>(node_type.size()) == nv,
                "global nodes: node_type has " << node_type.size() << " entries: expected " << nv);
  std::vector<int> chosen;
  if (G == 0 || nv <= 0) return chosen;
  int first = 0;
  for (long long i = 0; i < static_cast<long long>(node_type.size()); ++i)
    if (node_type[i] == mesh::obstacle || node_type[i] == mesh::wall) {
      first = static_cast<int>(i);
      break;
    }
  // nearest (V): min over the chosen nodes of the hop distance; `far` stands for unreachable.
  const int far = std::numeric_limits<int>::max();
  std::vector<int> nearest(static_cast<std::size_t>(nv), far), dist;
  std::vector<char> taken(static_cast<std::size_t>(nv), 0);
  int next = first;
  while (true) {
    chosen.push_back(next);
    taken[static_cast<std::size_t>(next)] = 1;
    if (static_cast<long long>(chosen.size()) == std::min<long long>(G, nv)) break;
    attention_masks_impl::hop_distances(adjacency, next, far, dist);
    for (long long i = 0; i < nv; ++i) nearest[i] = std::min(nearest[i], dist[i]);
    // The farthest node not chosen yet; strict > keeps the lowest number on ties.
    int best = -1;
    for (long long i = 0; i < nv; ++i)
      if (!taken[i] && (best < 0 || nearest[i] > nearest[static_cast<std::size_t>(best)])) best = int(i);
    next = best;
  }
  return chosen;
}

mesh::Csr add_global_nodes(const mesh::Csr& local, const std::vector<int>& globals) {
  const long long nv = local.rows();
  std::vector<int> sorted = globals;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<char> is_global(static_cast<std::size_t>(nv), 0);
  for (const int g : sorted) {
    SURRO_REQUIRE(g >= 0 && g < nv, "global nodes: node " << g << ": expected 0.." << nv - 1);
    is_global[static_cast<std::size_t>(g)] = 1;
  }
  mesh::Csr out;
  out.offsets.assign(static_cast<std::size_t>(nv) + 1, 0);
  std::vector<int> row;
  for (long long i = 0; i < nv; ++i) {
    row.clear();
    if (is_global[static_cast<std::size_t>(i)]) {
      for (long long j = 0; j < nv; ++j)
        if (j != i) row.push_back(static_cast<int>(j));
    } else {
      // Both inputs are sorted sets, so the union holds each column once; i is not global, and the
      // local row holds no diagonal, so neither does the union.
      const auto b = local.indices.begin() + local.offsets[i],
                 e = local.indices.begin() + local.offsets[i + 1];
      std::set_union(b, e, sorted.begin(), sorted.end(), std::back_inserter(row));
    }
    out.indices.insert(out.indices.end(), row.begin(), row.end());
    out.offsets[static_cast<std::size_t>(i) + 1] = static_cast<long long>(out.indices.size());
  }
  return out;
}

mesh::Csr mesh_attention_mask(const mesh::Graph& graph, const std::vector<int>& node_type,
                              const MaskSpec& spec) {
  spec.validate();
  mesh::Csr local;
  switch (spec.kind) {
    case MaskSpec::Kind::adjacency:
      local = graph.by_receiver;
      break;
    case MaskSpec::Kind::k_hop:
      local = spec.k == 1 ? graph.by_receiver : mesh::k_hop(graph.by_receiver, spec.k);
      break;
    case MaskSpec::Kind::dilated:
      local = dilated_hops(graph.by_receiver, spec.dilation, spec.radius);
      break;
  }
  if (spec.global_nodes == 0) return local;
  return add_global_nodes(local, global_node_choice(graph.by_receiver, node_type, spec.global_nodes));
}

}  // namespace surro::op
