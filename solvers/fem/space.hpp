#pragma once
// Lagrange P1/P2 spaces on straight-sided triangle meshes, batches of them, and the CSR pattern of
// their block-diagonal operators. Host-only (no Kokkos): solvers/fem/system.hpp copies these to the
// device.
//
// Dof numbering of one mesh: P1 dofs are the V vertices; P2 dofs are the V vertices, then the E
// edge midpoints in unique_edges(mesh) order (dof V + e). A cell's dofs are its 3 vertices (in the
// mesh's counter-clockwise order), then for P2 its sides s = 0, 1, 2 (side s joins local vertices s
// and s+1 mod 3, as cell_edges numbers them).
//
// A batch concatenates B meshes: sample b owns dofs [dof_offset[b], dof_offset[b+1]) and cells
// [cell_offset[b], cell_offset[b+1]); its operators are the diagonal blocks of one sparse matrix.
#include "mesh/mesh.hpp"

#include <string>
#include <vector>

namespace surro::solvers::fem {

struct Space {
  int degree = 1;                  // 1 or 2
  int nk = 3;                      // dofs per cell: 3 (P1) or 6 (P2)
  long long num_vertices = 0;      // V
  long long num_dofs = 0;          // Nd = V (P1) or V + E (P2)
  std::vector<int> edges;          // (E, 2) unique_edges(mesh) (P2 only)
  std::vector<int> cell_dofs;      // (Nc, Nk)
  std::vector<double> dof_coords;  // (Nd, 2)
};

// Validates a 2D triangle mesh (counter-clockwise cells with positive area) and numbers its dofs.
Space make_space(const mesh::Mesh& mesh, int degree);

// Sorted, unique dofs lying on the boundary facets whose tag is in `tags` (both end vertices and,
// for P2, the facet's edge midpoint).
std::vector<int> facet_dofs(const mesh::Mesh& mesh, const Space& space, const std::vector<int>& tags);

// The facet tag named `name` in mesh.tag_names; throws Error(input) listing the names otherwise.
int tag_of(const mesh::Mesh& mesh, const std::string& name);

// B spaces of one degree laid end to end.
struct BatchLayout {
  int degree = 1, nk = 3, batch = 0;
  std::vector<long long> dof_offset;   // (B + 1)
  std::vector<long long> cell_offset;  // (B + 1)
  std::vector<int> cell_dofs;          // (Nc, Nk) batch dof indices
  std::vector<double> cell_xy;         // (Nc, 3, 2) the cell's vertex coordinates
  std::vector<int> cell_sample;        // (Nc)
  std::vector<int> dof_sample;         // (Nd)
  std::vector<double> dof_coords;      // (Nd, 2)
  long long num_dofs() const { return dof_offset.back(); }
  long long num_cells() const { return cell_offset.back(); }
};

BatchLayout make_batch(const std::vector<const mesh::Mesh*>& meshes, const std::vector<const Space*>& spaces);

// CSR pattern of the batch operator (columns sorted within a row), and the fixed-order gather lists
// that let assembly sum element contributions without atomics:
//   value[slot] = sum over k in [slot_ptr[slot], slot_ptr[slot+1]) of element_matrix[slot_entries[k]]
//   vector[dof] = sum over k in [dof_ptr[dof], dof_ptr[dof+1])     of element_vector[dof_entries[k]]
// with element_matrix (Nc, Nk, Nk) and element_vector (Nc, Nk) flattened; the lists ascend, so
// the order of the sum depends only on the mesh.
struct CsrPattern {
  std::vector<long long> row_ptr;       // (Nd + 1)
  std::vector<int> col;                 // (nnz)
  std::vector<long long> diag;          // (Nd) slot of the diagonal entry
  std::vector<long long> slot_ptr;      // (nnz + 1)
  std::vector<long long> slot_entries;  // (Nc Nk Nk) flat element-matrix indices
  std::vector<long long> dof_ptr;       // (Nd + 1)
  std::vector<long long> dof_entries;   // (Nc Nk) flat element-vector indices
  // Reduction chunks: consecutive rows of one sample, at most kChunk long; chunk_ptr (Nch + 1) row
  // ranges, chunk_sample (Nch), sample_chunk (B + 1) each sample's chunk range.
  static constexpr long long kChunk = 256;
  std::vector<long long> chunk_ptr;
  std::vector<int> chunk_sample;
  std::vector<long long> sample_chunk;
  long long nnz() const { return static_cast<long long>(col.size()); }
};

CsrPattern make_pattern(const BatchLayout& layout);

}  // namespace surro::solvers::fem
