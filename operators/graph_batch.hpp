#pragma once
// A block-diagonal batch of B meshes for the graph models (mesh transformer, MeshGraphNet).
//
// Built ONCE per set of meshes on the host (build_host_graph_batch), then uploaded into device
// buffers planned for a capacity (GraphBatch), so a model planned for that capacity serves every
// batch that fits; a batch over the capacity is refused, naming the numbers.
//
// Layout (V = sum of the meshes' nodes, mesh b owns nodes [node_offsets[b], node_offsets[b + 1])):
//   node_type   (V)          MeshGraphNets' NodeType (mesh/mesh.hpp)
//   positions   (V, dim)     double, the meshes' points
//   predicted   (V)          1 for NORMAL (0) and OUTFLOW (5) nodes (the loss mask), else 0
//   edges       (E)          every unique mesh edge in both directions, no self-loops; mesh by mesh,
//                            each mesh's edges in receiver order (mesh::mesh_graph), node indices
//                            offset by the mesh's first node. GraphEdges (graph_gather.hpp) views them.
//   mask        (nnz)        the attention mask, a CSR by receiver, per mesh for a MaskSpec
//                            (attention_masks.hpp: adjacency = the edges' pattern, k-hop, dilated,
//                            each optionally with global nodes); with its transpose and slot
//                            permutation (AttentionMask, masked_attention.hpp); its rows and
//                            columns longer than kLongRow and their tiles, for the tiled kernels.
// Meshes never connect: every structure is block-diagonal, so a batch's outputs on mesh b equal
// the outputs of mesh b alone.
#include "core/types.hpp"
#include "mesh/mesh.hpp"
#include "operators/attention_masks.hpp"
#include "operators/layers/graph_csr.hpp"
#include "operators/layers/graph_gather.hpp"
#include "operators/layers/masked_attention.hpp"

#include <vector>

namespace surro::op {

// What a model and a GraphBatch are planned for.
struct GraphBatchCapacity {
  int meshes = 0;     // B
  index_t nodes = 0;  // V
  index_t edges = 0;  // E (directed)
  index_t nnz = 0;    // attention-mask entries
};

// The host form of a batch (see the header comment for the layout).
struct HostGraphBatch {
  int dim = 2;
  MaskSpec mask_spec;                 // the mask it was built with
  std::vector<index_t> node_offsets;  // (B + 1)
  std::vector<int> node_type;         // (V)
  std::vector<double> positions;      // (V, dim)
  std::vector<int> predicted;         // (V)
  std::vector<int> senders;           // (E)
  std::vector<int> receivers;         // (E)
  HostCsr out_edges;                  // (V + 1, E) edges grouped by sender
  HostCsr in_edges;                   // (V + 1, E) edges grouped by receiver
  HostCsr mask;                       // (V + 1, nnz) by receiver
  HostCsr mask_t;                     // (V + 1, nnz) by sender
  std::vector<int> mask_perm;         // (nnz) transpose slot -> mask slot

  int meshes() const { return int(node_offsets.size()) - 1; }
  index_t nodes() const { return index_t(node_type.size()); }
  index_t edges() const { return index_t(senders.size()); }
  index_t nnz() const { return mask.nnz(); }
  GraphBatchCapacity capacity() const { return {meshes(), nodes(), edges(), nnz()}; }
};

// Builds the batch of `meshes` (all of one dim, node_type assigned, at least one mesh) with the
// attention mask `mask` (mesh_attention_mask per mesh: never across meshes). Error(input) naming
// the mesh index when a mesh has no node types or a different dimension; Error(usage) for an
// invalid mask.
HostGraphBatch build_host_graph_batch(const std::vector<mesh::Mesh>& meshes, const MaskSpec& mask);
// The same with a k_hop-hop mask (k_hop >= 1; 1 = adjacency): MaskSpec::hops(k_hop).
HostGraphBatch build_host_graph_batch(const std::vector<mesh::Mesh>& meshes, int k_hop = 1);

// The block-diagonal concatenation of host batches (each of one or several meshes, all of one dim
// and mask_spec): node, edge and mask-slot indices of part p are offset by the parts before it.
// Equal to build_host_graph_batch of the parts' meshes concatenated in order, without recomputing
// any graph. Error(usage) for no parts, or parts of different dim or mask_spec (naming the part).
HostGraphBatch concat_graph_batches(const std::vector<const HostGraphBatch*>& parts);

// One HostGraphBatch per mesh, built once (at construction), so that a training step's batch of
// meshes is a concatenation, not a rebuild. Memory: a 2-D mesh of V nodes costs about 220 V bytes
// with the adjacency mask (plus 8 bytes per extra mask entry, times 3: mask, transpose, permutation). Cheap
// to gather: gather() reuses one internal buffer.
class GraphBatchCache {
 public:
  GraphBatchCache() = default;
  // Errors as build_host_graph_batch (naming the mesh index).
  GraphBatchCache(const std::vector<mesh::Mesh>& meshes, const MaskSpec& mask);
  GraphBatchCache(const std::vector<mesh::Mesh>& meshes, int k_hop = 1)
      : GraphBatchCache(meshes, MaskSpec::hops(k_hop)) {}

  int size() const { return int(m_parts.size()); }  // meshes held
  const MaskSpec& mask_spec() const { return m_mask; }
  int dim() const { return m_parts.empty() ? 2 : m_parts.front().dim; }
  const HostGraphBatch& part(int mesh_index) const;  // the single-mesh batch of one mesh
  // The batch of meshes mesh_indices[0], mesh_indices[1], ... (repeats allowed), valid until the
  // next gather. Error(usage) for an empty list or an index outside [0, size()).
  const HostGraphBatch& gather(const std::vector<int>& mesh_indices);
  // A capacity that every gather of `batch` indices fits: per count (nodes, edges, nnz) the sum of
  // the `batch` largest values, each mesh counted up to `repeats` times (a window loader may draw
  // one trajectory up to windows_per_trajectory() times into a batch); meshes = batch. The default
  // allows any repetition (batch times the largest of each count).
  GraphBatchCapacity capacity(int batch, int repeats = -1) const;

 private:
  MaskSpec m_mask;
  std::vector<HostGraphBatch> m_parts;  // (meshes) one single-mesh batch each
  HostGraphBatch m_buffer;              // the last gather
};

// The elementwise maximum of two capacities (to plan for several batches).
GraphBatchCapacity max_capacity(const GraphBatchCapacity& a, const GraphBatchCapacity& b);

// Device buffers of a batch, planned for a capacity; upload() fills them without allocating.
template <class Exec>
class GraphBatch {
 public:
  using Mem = typename Exec::memory_space;
  GraphBatch(const GraphBatchCapacity& capacity, int dim = 2);

  // Copies `host` in. Error(usage) when it exceeds the capacity (naming which count and both
  // values) or has another dim.
  void upload(const Exec& exec, const HostGraphBatch& host);
  // build_host_graph_batch then upload.
  void set(const Exec& exec, const std::vector<mesh::Mesh>& meshes, const MaskSpec& mask);
  void set(const Exec& exec, const std::vector<mesh::Mesh>& meshes, int k_hop = 1) {
    set(exec, meshes, MaskSpec::hops(k_hop));
  }

  const GraphBatchCapacity& capacity() const { return m_cap; }
  int dim() const { return m_dim; }
  int meshes() const { return m_meshes; }
  index_t nodes() const { return m_nodes; }
  index_t edges() const { return m_edges; }
  index_t nnz() const { return m_nnz; }
  const std::vector<index_t>& node_offsets() const { return m_offsets; }  // (B + 1), host

  const int* node_type() const { return m_node_type.data(); }     // (V)
  const double* positions() const { return m_positions.data(); }  // (V, dim)
  const int* predicted() const { return m_predicted.data(); }     // (V)
  GraphEdges graph() const;                                       // the directed edges
  AttentionMask mask() const;                                     // the attention mask

 private:
  GraphBatchCapacity m_cap;
  int m_dim;
  int m_meshes = 0;
  index_t m_nodes = 0, m_edges = 0, m_nnz = 0;
  std::vector<index_t> m_offsets;
  View1<int, Mem> m_node_type, m_predicted;                         // (V cap)
  View1<double, Mem> m_positions;                                   // (V cap, dim)
  View1<int, Mem> m_senders, m_receivers, m_out_edges, m_in_edges;  // (E cap)
  View1<index_t, Mem> m_out_offsets, m_in_offsets;                  // (V cap + 1)
  View1<index_t, Mem> m_mask_offsets, m_mask_offsets_t;             // (V cap + 1)
  View1<int, Mem> m_mask_indices, m_mask_indices_t, m_mask_perm;    // (nnz cap)
  // The mask's rows and columns longer than kLongRow (masked_attention.hpp), the prefix sums of their
  // kLongTile-tile counts, and their host staging (capacity reserved once: upload does not allocate).
  View1<int, Mem> m_long_rows, m_long_cols;            // (V cap)
  View1<int, Mem> m_long_row_tiles, m_long_col_tiles;  // (V cap + 1)
  index_t m_n_long_rows = 0, m_n_long_cols = 0, m_n_row_tiles = 0, m_n_col_tiles = 0;
  index_t m_long_row_nnz = 0, m_long_col_nnz = 0;  // entries of the long rows / columns
  std::vector<int> m_long_host, m_tiles_host;
};

}  // namespace surro::op
