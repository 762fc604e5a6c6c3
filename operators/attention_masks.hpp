#pragma once
// The mesh transformer's attention masks (docs/operators.md, "Mesh transformer masks"): which nodes
// a node attends to, per mesh, built once on the host from the mesh graph. Host-only (no Kokkos).
//
// Notation: h(i, j) = the hop distance between nodes i and j in the mesh graph (number of edges on
// a shortest path; infinite between components). Every mask is a CSR by receiver (query) i holding
// the keys j in ascending order, once, never i itself, and is symmetric (j in row i <=> i in row j):
//   adjacency       h(i, j) = 1
//   k_hop(k)        1 <= h(i, j) <= k                        (graph-physics' k-hop mask)
//   dilated(d, r)   h(i, j) = 1, or h(i, j) <= r and d divides h(i, j)
//                   (d = 2, r = 8: hops 1, 2, 4, 6, 8)
//   + global(G)     G global nodes per mesh (global_node_choice below); the union of the local mask
//                   with: every node attends to every global node, and every global node attends to
//                   every node of its mesh (j != i). A pair is never listed twice.
#include "mesh/mesh.hpp"

#include <string>
#include <vector>

namespace surro::op {

struct MaskSpec {
  enum class Kind { adjacency, k_hop, dilated };
  Kind kind = Kind::adjacency;
  int k = 1;             // k_hop: the largest hop distance (>= 1; 1 is the adjacency)
  int dilation = 2;      // dilated: d >= 1
  int radius = 8;        // dilated: r >= 1
  int global_nodes = 0;  // G >= 0 global nodes per mesh (0: none)

  // adjacency for k = 1, k_hop(k) for k >= 2 (the former `int k_hop` argument).
  static MaskSpec hops(int k);
  static MaskSpec dilated(int d, int r, int global_nodes = 0);
  // One phrase for logs: "adjacency", "3-hop", "dilated (d 2, r 8)", each with " + 8 global nodes".
  std::string describe() const;
  // Throws Error(usage) "<where>: ..." for k, d, r < 1 or G < 0.
  void validate(const std::string& where = "attention mask") const;
};

// Equal when they build the same mask (kind, the kind's own numbers, global_nodes); k_hop with k = 1
// equals adjacency.
bool operator==(const MaskSpec& a, const MaskSpec& b);
inline bool operator!=(const MaskSpec& a, const MaskSpec& b) {
  return !(a == b);
}

// Rows of the dilated mask of a symmetric adjacency (row i: the j != i with h(i, j) = 1 or with
// h(i, j) <= r a multiple of d), columns sorted. A breadth-first search to depth r per node: cost
// O(V * (nodes within r hops)). d = 1 gives k_hop(r).
mesh::Csr dilated_hops(const mesh::Csr& adjacency, int d, int r);

// The G global nodes of one mesh by farthest-point sampling in hop distance:
//   g_0 = the lowest-numbered node of type OBSTACLE (1) or WALL_BOUNDARY (6), else node 0;
//   g_m = argmax_i min_{l < m} h(i, g_l) over nodes not chosen yet (unreachable nodes count as
//         infinitely far), ties to the lowest node number.
// Integer distances make the choice exact and platform-independent. Returns min(G, V) nodes in
// choice order. node_type may be empty (then g_0 = 0).
std::vector<int> global_node_choice(const mesh::Csr& adjacency, const std::vector<int>& node_type, int G);

// The union of a local mask (rows sorted, no diagonal) with the global pattern of `globals`: rows of
// non-global nodes gain the global nodes, rows of global nodes become every other node. Sorted,
// without duplicates.
mesh::Csr add_global_nodes(const mesh::Csr& local, const std::vector<int>& globals);

// The attention mask of one mesh (rows V) for `spec`, from its graph (mesh::mesh_graph) and node
// types. Validates spec (Error(usage)).
mesh::Csr mesh_attention_mask(const mesh::Graph& graph, const std::vector<int>& node_type,
                              const MaskSpec& spec);

}  // namespace surro::op
