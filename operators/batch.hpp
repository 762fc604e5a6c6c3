#pragma once
// The data layout every model, normalizer, loss and rollout shares, for grids and meshes alike.
//
// A batch is a stack of ROWS:
//   grids   one row per sample, a row is (C, N...) channel-first: x (B, Cin, N...), every sample
//           the same grid; sample b is row b (the uniform case of the offsets below).
//   meshes  one row per mesh node, a row is (C) channel-last: x (V, Cin) with V the nodes of the
//           batch's meshes stacked in batch order; sample b owns rows [offset(b), offset(b + 1)),
//           and the block-diagonal GraphBatch (operators/graph_batch.hpp) holds the structure.
// So a frame of C fields is (rows, C, P) with P = points per row (the grid's point count, 1 on
// meshes), and a window of T frames is (rows, T * C, P), frame-major, oldest first. Everything that
// works on rows (normalizers, the window shift, delta targets, losses) serves both without knowing
// which it is.
//
//   DataShape  what an Architecture is bound to once, from the data (channels, grid or mesh dims).
//   PlanShape  what one Model instance is planned for: a batch size (grids) or a GraphBatch
//              capacity (meshes: every batch that fits reuses the same buffers).
//   Batch      what one forward/backward sees besides its tensors.
#include "core/types.hpp"
#include "operators/graph_batch.hpp"

#include <vector>

namespace surro::op {

struct DataShape {
  int in_channels = 1;    // Cin per row point: T_in * C for windows
  int out_channels = 1;   // Cout per row point
  std::vector<int> grid;  // grids: (Nx[, Ny[, Nz]]); empty on meshes
  int mesh_dims = 0;      // meshes: spatial dimension (2 or 3); 0 on grids
  bool on_mesh() const { return mesh_dims > 0; }
  // P: points per row, prod(grid) on grids and 1 on meshes.
  index_t points() const {
    index_t p = 1;
    for (int e : grid) p *= e;
    return p;
  }
};

struct PlanShape {
  int batch = 1;                // grids: exactly this many samples; meshes: up to this many meshes
  GraphBatchCapacity graph;     // meshes: the node, edge and mask capacity
  // Rows a planned buffer needs: batch on grids, graph.nodes on meshes.
  index_t rows(bool on_mesh) const { return on_mesh ? graph.nodes : index_t(batch); }
};

template <class Exec>
struct Batch {
  int samples = 0;                          // B
  const GraphBatch<Exec>* graph = nullptr;  // meshes: the batch's graph (on Exec); null on grids
  bool on_mesh() const { return graph != nullptr; }
  index_t rows() const { return graph ? graph->nodes() : index_t(samples); }
  // First row of sample b (b = samples gives rows()).
  index_t offset(int b) const { return graph ? graph->node_offsets()[std::size_t(b)] : index_t(b); }
  // (rows) 1 where a row enters the loss (MeshGraphNets: NORMAL and OUTFLOW nodes); null = every row.
  const int* loss_mask() const { return graph ? graph->predicted() : nullptr; }
  // (rows) node types on meshes (input noise goes to NORMAL nodes only); null on grids.
  const int* node_type() const { return graph ? graph->node_type() : nullptr; }
};

template <class Exec>
Batch<Exec> grid_batch(int samples) {
  return Batch<Exec>{samples, nullptr};
}

template <class Exec>
Batch<Exec> graph_batch(const GraphBatch<Exec>& graph) {
  return Batch<Exec>{graph.meshes(), &graph};
}

}  // namespace surro::op
