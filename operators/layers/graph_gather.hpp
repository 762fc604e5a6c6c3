#pragma once
// graph_gather / graph_scatter_sum: MeshGraphNet's message passing moves, on a directed edge list
// (edge e from senders[e] to receivers[e]; a batch of graphs is one edge list over all its nodes).
//
//   graph_gather:       y(e, :) = [x(senders[e], :), x(receivers[e], :), ef(e, :)]   (E, 2D + De)
//                       the edge MLP's input (DeepMind's order: sender, receiver, edge features)
//   graph_scatter_sum:  y(i, :) = sum_{e: receivers[e] = i} m(e, :)                  (V, D)
//
// Backward of gather: dx(i) = sum over edges out of i of dy(e, :D) + sum over edges into i of
// dy(e, D:2D), def = dy(:, 2D:); backward of scatter_sum: dm(e) = dy(receivers[e]).
// The node sums read the edges grouped by sender and by receiver (graph_csr.hpp group_by_key):
// each output element is one sum in ascending edge order; no atomics.
#include "core/types.hpp"

namespace surro::op {

// Device pointers of one (batched) directed edge list.
struct GraphEdges {
  index_t nodes = 0;                     // V
  index_t edges = 0;                     // E
  const int* senders = nullptr;          // (E)
  const int* receivers = nullptr;        // (E)
  const index_t* out_offsets = nullptr;  // (V + 1) edges grouped by sender: group_by_key(V, senders)
  const int* out_edges = nullptr;        // (E)
  const index_t* in_offsets = nullptr;   // (V + 1) edges grouped by receiver: group_by_key(V, receivers)
  const int* in_edges = nullptr;         // (E)
};

// y = [x(senders), x(receivers), ef]; ef may be null when De = 0. y must not alias x or ef.
template <class Exec, class Real>
void graph_gather_forward(const Exec& exec, const GraphEdges& g, int dim, int edge_dim,
                          const Real* x /* (V, D) */, const Real* ef /* (E, De) */,
                          Real* y /* (E, 2D + De) */);

// dx and def overwritten (each may be null). Reads out_* (senders' half) and in_* (receivers' half).
template <class Exec, class Real>
void graph_gather_backward(const Exec& exec, const GraphEdges& g, int dim, int edge_dim,
                           const Real* dy /* (E, 2D + De) */, Real* dx /* (V, D) */, Real* def /* (E, De) */);

// y(i) = sum of m over the edges into i (in_* grouping); nodes without edges get 0.
template <class Exec, class Real>
void graph_scatter_sum_forward(const Exec& exec, const GraphEdges& g, int dim, const Real* m /* (E, D) */,
                               Real* y /* (V, D) */);

// dm(e) = dy(receivers[e]) + add(e), overwritten; add null: + 0. `add` folds in a gradient that
// reaches m by another path (MeshGraphNet's edge residual) in the same pass. dm may alias add.
// One row per vector (row_policy.hpp): edge e's D channels on a warp's lanes, no index division.
template <class Exec, class Real>
void graph_scatter_sum_backward(const Exec& exec, const GraphEdges& g, int dim, const Real* dy /* (V, D) */,
                                Real* dm /* (E, D) */, const Real* add = nullptr /* (E, D) or null */);

}  // namespace surro::op
