#include "operators/layers/graph_gather.hpp"

#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/row_policy.hpp"

namespace surro::op {

template <class Exec, class Real>
void graph_gather_forward(const Exec& exec, const GraphEdges& g, int dim, int edge_dim, const Real* x,
                          const Real* ef, Real* y) {
  ScopedRegion region("surro::op::graph_gather::forward");
  const index_t D = dim, De = edge_dim, W = 2 * D + De;
  profile::add_work("surro::op::graph_gather::forward", 2.0 * g.edges * W * sizeof(Real) + 8.0 * g.edges);
  const int *snd = g.senders, *rcv = g.receivers;
  Kokkos::parallel_for(
      "surro::op::graph_gather::forward", Kokkos::RangePolicy<Exec>(exec, 0, g.edges * W),
      KOKKOS_LAMBDA(const index_t t) {
        const index_t e = t / W, c = t % W;
        y[t] = c < D       ? x[index_t(snd[e]) * D + c]
               : c < 2 * D ? x[index_t(rcv[e]) * D + c - D]
                           : ef[e * De + c - 2 * D];
      });
}

namespace graph_gather_impl {

// out(i, c) = sum_{s in group i} a(list[s], off + c) (+ the same over a second grouping, off2),
// a with row stride W: the deterministic segment sum behind gather's backward and scatter_sum.
template <class Exec, class Real>
void segment_sum(const Exec& exec, const char* label, index_t nodes, index_t D, index_t W, const Real* a,
                 const index_t* off1, const int* list1, index_t col1, const index_t* off2, const int* list2,
                 index_t col2, Real* out) {
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<Exec>(exec, 0, nodes * D), KOKKOS_LAMBDA(const index_t t) {
        const index_t i = t / D, c = t % D;
        Real acc = 0;
        for (index_t s = off1[i]; s < off1[i + 1]; ++s) acc += a[index_t(list1[s]) * W + col1 + c];
        if (off2)
          for (index_t s = off2[i]; s < off2[i + 1]; ++s) acc += a[index_t(list2[s]) * W + col2 + c];
        out[t] = acc;
      });
}

}  // namespace graph_gather_impl

template <class Exec, class Real>
void graph_gather_backward(const Exec& exec, const GraphEdges& g, int dim, int edge_dim, const Real* dy,
                           Real* dx, Real* def) {
  ScopedRegion region("surro::op::graph_gather::backward");
  const index_t D = dim, De = edge_dim, W = 2 * D + De;
  if (dx) {
    profile::add_work("surro::op::graph_gather::backward_nodes",
                      (2.0 * g.edges * D + g.nodes * D) * sizeof(Real) + 8.0 * (g.edges + g.nodes));
    graph_gather_impl::segment_sum(exec, "surro::op::graph_gather::backward_nodes", g.nodes, D, W, dy,
                                   g.out_offsets, g.out_edges, 0, g.in_offsets, g.in_edges, D, dx);
  }
  if (def && De > 0) {
    profile::add_work("surro::op::graph_gather::backward_edges", 2.0 * g.edges * De * sizeof(Real));
    Kokkos::parallel_for(
        "surro::op::graph_gather::backward_edges", Kokkos::RangePolicy<Exec>(exec, 0, g.edges * De),
        KOKKOS_LAMBDA(const index_t t) { def[t] = dy[(t / De) * W + 2 * D + t % De]; });
  }
}

template <class Exec, class Real>
void graph_scatter_sum_forward(const Exec& exec, const GraphEdges& g, int dim, const Real* m, Real* y) {
  ScopedRegion region("surro::op::graph_scatter_sum::forward");
  profile::add_work("surro::op::graph_scatter_sum::forward",
                    (double(g.edges) + g.nodes) * dim * sizeof(Real) + 4.0 * g.edges + 8.0 * g.nodes);
  graph_gather_impl::segment_sum<Exec, Real>(exec, "surro::op::graph_scatter_sum::forward", g.nodes, dim, dim,
                                             m, g.in_offsets, g.in_edges, 0, nullptr, nullptr, 0, y);
}

template <class Exec, class Real>
void graph_scatter_sum_backward(const Exec& exec, const GraphEdges& g, int dim, const Real* dy, Real* dm,
                                const Real* add) {
  if (!dm) return;
  ScopedRegion region("surro::op::graph_scatter_sum::backward");
  const index_t edges = g.edges;
  const int D = dim;
  profile::add_work("surro::op::graph_scatter_sum::backward",
                    (add ? 3.0 : 2.0) * edges * D * sizeof(Real) + 4.0 * edges);
  const int* rcv = g.receivers;
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Kokkos::parallel_for(
      "surro::op::graph_scatter_sum::backward", row_policy(exec, edges),
      KOKKOS_LAMBDA(const member_type& team) {
        const index_t e = row_index(team);
        if (e >= edges) return;
        const Real* src = dy + index_t(rcv[e]) * D;
        Real* out = dm + e * D;
        if (add) {
          const Real* a = add + e * D;
          Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, D),
                               [&](const int c) { out[c] = src[c] + a[c]; });
        } else {
          Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, D), [&](const int c) { out[c] = src[c]; });
        }
      });
}

#define SURRO_X(Exec, Real)                                                                              \
  template void graph_gather_forward<Exec, Real>(const Exec&, const GraphEdges&, int, int, const Real*,  \
                                                 const Real*, Real*);                                    \
  template void graph_gather_backward<Exec, Real>(const Exec&, const GraphEdges&, int, int, const Real*, \
                                                  Real*, Real*);                                         \
  template void graph_scatter_sum_forward<Exec, Real>(const Exec&, const GraphEdges&, int, const Real*,  \
                                                      Real*);                                            \
  template void graph_scatter_sum_backward<Exec, Real>(const Exec&, const GraphEdges&, int, const Real*, \
                                                       Real*, const Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
