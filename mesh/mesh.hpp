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
//                          positive side of its first three); validate() checks it
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

// Signed cell measures (Nc): triangle areas in 2D, tetrahedron volumes in 3D; positive for positively
// oriented cells (see the header comment), negative for inverted ones, zero for degenerate ones.
std::vector<double> cell_measures(const Mesh& mesh);

}  // namespace surro::mesh
