#pragma once
// Unstructured simplex meshes (triangles in 2D, tetrahedra in 3D) on the host, and their topology:
// unique edges, CSR adjacency, k-hop neighbourhoods, element geometry and validation.
//
// This header is plain C++ (no Kokkos, no VTK, no Gmsh), so datasets/ can hold meshes and solvers
// can copy them to the device without pulling either library in. Functions are in surro_mesh.
//
// Index conventions (dimension letters in docs/STYLE.md):
//   points     (V, dim)    double, LayoutRight
//   cells      (Nc, Nk)    int, Nk = dim + 1 nodes per cell; positively oriented (a triangle's
//                          nodes run counter-clockwise, a tetrahedron's fourth node lies on the
//                          positive side of its first three); validate_mesh checks it
//   node_type  (V)         int, MeshGraphNets' NodeType values
//   facets     (Nf, dim)   boundary facets (segments in 2D, triangles in 3D) and their tags (Nf)
#include <map>
#include <string>
#include <vector>

namespace surro::mesh {

// MeshGraphNets' node types (deepmind-research meshgraphnets/common.py); one-hot width 9.
enum NodeType : int {
  normal = 0,
  obstacle = 1,
  airfoil = 2,
  handle = 3,
  inflow = 4,
  outflow = 5,
  wall = 6,  // WALL_BOUNDARY: channel walls and, in CylinderFlow, the cylinder
  node_type_count = 9,
};

struct Mesh {
  int dim = 2;                           // spatial dimension: 2 (triangles) or 3 (tetrahedra)
  std::vector<double> points;            // (V, dim)
  std::vector<int> cells;                // (Nc, dim + 1)
  std::vector<int> node_type;            // (V); empty until assigned
  std::vector<int> facets;               // (Nf, dim) boundary facets
  std::vector<int> facet_tags;           // (Nf) physical-group tag of each facet
  std::map<int, std::string> tag_names;  // physical-group tag -> name ("inlet", "cylinder", ...)

  int nodes_per_cell() const { return dim + 1; }
  long long num_points() const { return static_cast<long long>(points.size()) / dim; }
  long long num_cells() const { return static_cast<long long>(cells.size()) / nodes_per_cell(); }
  long long num_facets() const { return static_cast<long long>(facets.size()) / dim; }
};

// Unique undirected edges from the cells' sides: (E, 2) with e[0] < e[1], sorted lexicographically,
// so the order depends only on the mesh. No self-loops.
std::vector<int> unique_edges(const Mesh& mesh);

// For each cell its sides' indices into unique_edges(mesh): (Nc, S) with S = 3 for triangles (side s
// joins local nodes (s, s+1 mod 3)) and 6 for tetrahedra (local pairs 01, 02, 03, 12, 13, 23). P2
// elements number their edge-midpoint dofs through it.
std::vector<int> cell_edges(const Mesh& mesh, const std::vector<int>& edges);

// Compressed sparse rows over V nodes: row i holds indices[offsets[i] .. offsets[i + 1]), sorted.
struct Csr {
  std::vector<long long> offsets;  // (V + 1)
  std::vector<int> indices;        // (nnz), sorted within each row
  long long rows() const { return static_cast<long long>(offsets.size()) - 1; }
  long long nnz() const { return offsets.empty() ? 0 : offsets.back(); }
};

// The mesh's graph for message passing: every unique edge in both directions (2E directed edges), no
// self-loops. Directed edges are numbered in receiver order: sorted by (receiver, sender), so edge
// e = by_receiver.offsets[r] + j has receiver r and sender by_receiver.indices[e], and summing messages
// over a row in index order is a deterministic reduction by receiver.
struct Graph {
  std::vector<int> senders;                   // (2E) in receiver order
  std::vector<int> receivers;                 // (2E) in receiver order, non-decreasing
  Csr by_receiver;                            // row r: the senders of r's incoming edges
  Csr by_sender;                              // row s: the receivers of s's outgoing edges (sender order)
  std::vector<long long> sender_to_receiver;  // (2E) sender-order position -> receiver-order edge id
  long long num_edges() const { return static_cast<long long>(senders.size()); }
};

// Graph of unique_edges(mesh) over the mesh's V nodes.
Graph mesh_graph(const Mesh& mesh);
// Graph of undirected edges (E, 2) over num_nodes nodes; duplicate pairs are merged. Errors:
// Error(runtime) for a self-loop or a node index outside 0..num_nodes-1.
Graph edge_graph(const std::vector<int>& edges, long long num_nodes);

// All pairs at graph distance 1..k in a symmetric adjacency (k >= 1): row i lists every j != i
// reachable in at most k steps, sorted, once. k_hop(A, 1) is A without self-loops or duplicates.
// The support of A + A^2 + ... + A^k minus the diagonal (graph-physics' k-hop attention mask).
Csr k_hop(const Csr& adjacency, int k);

// Signed cell measures (Nc): triangle areas in 2D, tetrahedron volumes in 3D; positive for positively
// oriented cells (see the header comment), negative for inverted ones, zero for degenerate ones.
std::vector<double> cell_measures(const Mesh& mesh);

// Shape quality (Nc) in (0, 1] for positive cells, 1 for the equilateral triangle / regular
// tetrahedron, -> 0 as a cell degenerates, negative for inverted cells:
//   triangle:     4 sqrt(3) A / (l01^2 + l12^2 + l20^2)
//   tetrahedron:  6 sqrt(2) V / l_rms^3, l_rms^2 the mean of the six squared edge lengths
std::vector<double> cell_quality(const Mesh& mesh);

// Outward unit normals (Nf, dim) of the boundary facets: each facet's normal points away from the
// cell that has it as a side. Errors: Error(input) if a facet is a side of no cell.
std::vector<double> facet_normals(const Mesh& mesh, const std::string& source = "mesh");

// Checks that a mesh is usable by solvers and graph models; `source` names it (a file) in errors,
// which are Error(input) naming the element or node:
//   array sizes consistent with dim, node indices in 0..V-1 (cells and facets)
//   node_type: empty (not assigned) or one value in 0..8 per node
//   no two nodes with identical coordinates; every node in some cell (an isolated node gets no
//     messages in a graph model and an empty row in a finite-element matrix: an error, not a warning)
//   cells: distinct nodes, positively oriented and not degenerate (|measure| above 1e-12 of the
//     cell's longest edge to the power dim)
//   manifold: a cell side is shared by at most two cells, and two cells sharing a side lie on its
//     opposite sides (they induce opposite orientations on it; a folded/inverted cell does not)
//   every boundary facet is a side of exactly one cell
void validate_mesh(const Mesh& mesh, const std::string& source);

}  // namespace surro::mesh
