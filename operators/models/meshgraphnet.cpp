#include "operators/models/meshgraphnet.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/graph_gather.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/layer_norm.hpp"
#include "operators/layers/row_policy.hpp"
#include "operators/models/graph_mlp.hpp"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

namespace surro::op {

namespace meshgraphnet_impl {

std::string name(const std::string& part) {
  return "meshgraphnet." + part;
}
std::string block(int l, const std::string& part) {
  return name("block" + std::to_string(l) + "." + part);
}
std::vector<int> widths(const MeshGraphNetCfg& c, int in, int out) {
  std::vector<int> w{in};
  for (int i = 0; i < c.hidden_layers; ++i) w.push_back(c.hidden);
  w.push_back(out);
  return w;
}

// ef (E, dim + 1) = [pos[s] - pos[r], |pos[s] - pos[r]|] for each directed edge (s -> r), then
// standardized per channel, (f - mean) / scale, when mean and scale (dim + 1) are non-null.
template <class Exec, class Real>
void edge_features(const Exec& exec, index_t edges, int dim, const double* pos, const int* senders,
                   const int* receivers, const Real* mean, const Real* scale, Real* ef) {
  Kokkos::parallel_for(
      "surro::meshgraphnet::edge_features", Kokkos::RangePolicy<Exec>(exec, 0, edges),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t s = senders[e], r = receivers[e];
        double n2 = 0;
        Real* f = ef + e * (dim + 1);
        for (int k = 0; k < dim; ++k) {
          const double d = pos[s * dim + k] - pos[r * dim + k];
          f[k] = Real(d);
          n2 += d * d;
        }
        f[dim] = Real(::sqrt(n2));
        if (mean)
          for (int k = 0; k <= dim; ++k) f[k] = (f[k] - mean[k]) / scale[k];
      });
}

template <class Exec, class Real>
void fill_zero(const Exec& exec, index_t n, Real* a) {
  Kokkos::parallel_for(
      "surro::meshgraphnet::fill_zero", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { a[i] = Real(0); });
}

}  // namespace meshgraphnet_impl

void meshgraphnet_validate(const MeshGraphNetCfg& c) {
  auto fail = [](const std::string& m) { SURRO_THROW(ErrorKind::usage, "meshgraphnet: " << m); };
  if (c.in_channels <= 0 || c.out_channels <= 0)
    fail("in_channels " + std::to_string(c.in_channels) + ", out_channels " + std::to_string(c.out_channels) +
         ": expected positive");
  if (c.dims != 2 && c.dims != 3) fail("dims = " + std::to_string(c.dims) + ": expected 2 or 3");
  if (c.hidden <= 0 || c.blocks <= 0 || c.hidden_layers < 0)
    fail("model.hidden and model.blocks must be positive, hidden_layers non-negative");
}

void meshgraphnet_register(ParamTable& t, const MeshGraphNetCfg& c) {
  using namespace meshgraphnet_impl;
  meshgraphnet_validate(c);
  const int H = c.hidden;
  relu_mlp_register(t, name("encoder.node"), widths(c, c.node_inputs(), H));
  layer_norm_register(t, name("encoder.node.norm"), {H});
  relu_mlp_register(t, name("encoder.edge"), widths(c, c.edge_inputs(), H));
  layer_norm_register(t, name("encoder.edge.norm"), {H});
  for (int l = 0; l < c.blocks; ++l) {
    relu_mlp_register(t, block(l, "edge"), widths(c, 3 * H, H));
    layer_norm_register(t, block(l, "edge.norm"), {H});
    relu_mlp_register(t, block(l, "node"), widths(c, 2 * H, H));
    layer_norm_register(t, block(l, "node.norm"), {H});
  }
  relu_mlp_register(t, name("decoder"), widths(c, H, c.out_channels));
}

template <class Exec, class Real>
void meshgraphnet_init(const Exec& exec, const MeshGraphNetCfg&, const ParamTable& table, Real* params,
                       std::uint64_t seed) {
  graph_model_init(exec, table, "meshgraphnet.", params, seed);
}

template <class Exec, class Real>
struct MeshGraphNet<Exec, Real>::State {
  using Mem = typename Exec::memory_space;
  using Buf = View1<Real, Mem>;
  using Mlp = ReluMlp<Exec, Real>;
  // A LayerNorm after an MLP: parameter offsets and the pre-norm input with its statistics (saved
  // per use in training, one shared set per row count in inference).
  struct Norm {
    std::size_t gamma, beta;
    Real *z, *mean, *rstd;  // (R, H), (R), (R)
  };
  struct Block {
    std::unique_ptr<Mlp> edge, node;
    Norm edge_norm, node_norm;
    Real* agg;  // (V, H) the summed messages, saved: backward re-concatenates [h_l, a]
  };
  gemm::Gemm<Exec> gemm;
  bool training;
  std::vector<Buf> owned;  // every buffer the model allocated (not the MLPs' own)
  std::unique_ptr<Mlp> enc_node, enc_edge, decoder;
  Norm enc_node_norm, enc_edge_norm;
  std::vector<Block> blocks;
  std::vector<Real*> x, e;  // the streams h_l (V, H), e_l (E, H): L + 1 in training, 2 alternating else
  // Shared by every block, live during one step only: the MLPs' scratch (the largest they need),
  // the node-level products [h W_s^T, h W_r^T] (V, 2H) (backward: the edge gradient sums by sender
  // and by receiver), the message m (E, H), the node MLP's input [h_l, a] (V, 2H).
  Real *mlp_scratch, *pq, *m, *nin, *enc_in, *ef;  // enc_in (V, Cin + 9), ef (E, dim + 1)
  Real *tV, *gx, *dagg;                            // (V, H)
  Real *ge, *tE, *tE2;                             // (E, H)
  Real *dnin, *denc_in;                            // (V, 2H), (V, Cin + 9)
  Real* colsum;  // training: the parameter sums' scratch, shared by the norms, the edge bias and the MLPs

  Real* alloc(const std::string& label, std::size_t n) {
    owned.emplace_back("surro::meshgraphnet::" + label, n);
    return owned.back().data();
  }
  Norm norm(const ParamTable& table, const std::string& prefix, index_t rows, int H) {
    return {table.slot(prefix + ".weight").offset, table.slot(prefix + ".bias").offset,
            alloc("norm_in", std::size_t(rows) * H), alloc("mean", rows), alloc("rstd", rows)};
  }
  // The norm of one use: its own buffers in training, else those of `shared` (same rows).
  Norm norm_of(const ParamTable& table, const std::string& prefix, index_t rows, int H, const Norm& shared) {
    if (training) return norm(table, prefix, rows, H);
    return {table.slot(prefix + ".weight").offset, table.slot(prefix + ".bias").offset, shared.z, shared.mean,
            shared.rstd};
  }

  State(const Exec& exec, const MeshGraphNetCfg& c, const ParamTable& table, const GraphBatchCapacity& cap,
        bool train)
      : gemm(exec, c.gemm), training(train) {
    using namespace meshgraphnet_impl;
    const int H = c.hidden;
    const index_t V = cap.nodes, E = cap.edges;
    const std::size_t Vs = std::size_t(V), Es = std::size_t(E);
    const std::vector<int> w_enc_node = widths(c, c.node_inputs(), H),
                           w_enc_edge = widths(c, c.edge_inputs(), H), w_dec = widths(c, H, c.out_channels),
                           w_edge = widths(c, 3 * H, H), w_node = widths(c, 2 * H, H);
    using Plan = std::pair<std::vector<int>, index_t>;  // an MLP's widths and rows
    std::size_t scratch = 0;
    for (const Plan& p :
         std::initializer_list<Plan>{{w_enc_node, V}, {w_enc_edge, E}, {w_dec, V}, {w_edge, E}, {w_node, V}})
      scratch = std::max(scratch, Mlp::scratch_scalars(p.first, p.second));
    mlp_scratch = scratch > 0 ? alloc("mlp_scratch", scratch) : nullptr;
    // One column-sum scratch for every parameter sum of a step (they run one after another): the
    // norms' and the edge bias's (H columns over E or V rows) and the MLPs' bias sums.
    std::size_t partial = column_sum_scratch(std::max(V, E), H);
    for (const Plan& p :
         std::initializer_list<Plan>{{w_enc_node, V}, {w_enc_edge, E}, {w_dec, V}, {w_edge, E}, {w_node, V}})
      partial = std::max(partial, Mlp::partial_scalars(p.first, p.second));
    colsum = training ? alloc("colsum", partial) : nullptr;
    auto mlp = [&](const std::string& prefix, const std::vector<int>& w, index_t rows) {
      return std::make_unique<Mlp>(gemm, table, prefix, w, rows, training, mlp_scratch, colsum);
    };
    enc_node = mlp(name("encoder.node"), w_enc_node, V);
    enc_edge = mlp(name("encoder.edge"), w_enc_edge, E);
    decoder = mlp(name("decoder"), w_dec, V);
    enc_node_norm = norm(table, name("encoder.node.norm"), V, H);
    enc_edge_norm = norm(table, name("encoder.edge.norm"), E, H);
    for (int l = 0; l < c.blocks; ++l) {
      Block b;
      b.edge = mlp(block(l, "edge"), w_edge, E);
      b.node = mlp(block(l, "node"), w_node, V);
      b.edge_norm = norm_of(table, block(l, "edge.norm"), E, H, enc_edge_norm);
      b.node_norm = norm_of(table, block(l, "node.norm"), V, H, enc_node_norm);
      b.agg = training || l == 0 ? alloc("agg", Vs * H) : blocks[0].agg;
      blocks.push_back(std::move(b));
    }
    for (int l = 0; l <= c.blocks; ++l) {
      x.push_back(training || l < 2 ? alloc("x", Vs * H) : x[l % 2]);
      e.push_back(training || l < 2 ? alloc("e", Es * H) : e[l % 2]);
    }
    pq = alloc("pq", Vs * 2 * H);
    m = alloc("m", Es * H);
    nin = alloc("nin", Vs * 2 * H);
    enc_in = alloc("enc_in", Vs * c.node_inputs());
    ef = alloc("ef", Es * c.edge_inputs());
    tV = alloc("tV", Vs * H);
    if (!training) return;
    gx = alloc("gx", Vs * H);
    dagg = alloc("dagg", Vs * H);
    ge = alloc("ge", Es * H);
    tE = alloc("tE", Es * H);
    tE2 = alloc("tE2", Es * H);
    dnin = alloc("dnin", Vs * 2 * H);
    denc_in = alloc("denc_in", Vs * c.node_inputs());
  }
};

namespace meshgraphnet_impl {

constexpr gemm::Op N = gemm::Op::none, T = gemm::Op::trans;

// y = LN(n.z) after the MLP wrote n.z; saves mean and rstd.
template <class Exec, class Real, class Norm>
void norm_forward(const Exec& exec, int H, index_t rows, const Real* P, const Norm& n, Real* y) {
  layer_norm_forward(exec, LayerNormCfg{H}, rows, P + n.gamma, P + n.beta, static_cast<const Real*>(n.z), y,
                     n.mean, n.rstd);
}
// dz = LN backward of dy (dz must not alias dy); partial: the column sums' scratch.
template <class Exec, class Real, class Norm>
void norm_backward(const Exec& exec, int H, index_t rows, const Real* P, const Norm& n, const Real* dy,
                   Real* G, Real* dz, Real* partial) {
  layer_norm_backward(exec, LayerNormCfg{H}, rows, P + n.gamma, static_cast<const Real*>(n.z),
                      static_cast<const Real*>(n.mean), static_cast<const Real*>(n.rstd), dy, G + n.gamma,
                      G + n.beta, dz, partial);
}

// The edge MLP's first layer on the gathered input [h(s), h(r), e] with W_0 = [W_s, W_r, W_e] (column
// blocks of (H, 3H)): z(e) = e W_e^T + (h W_s^T)(s) + (h W_r^T)(r) + b, the first term already in z,
// pq = [h W_s^T, h W_r^T] (V, 2H); ReLU when `relu`.
template <class Exec, class Real>
void edge_first_layer(const Exec& exec, const GraphEdges& g, int H, const Real* pq /* (V, 2H) */,
                      const Real* bias /* (H) */, bool relu, Real* z /* (E, H) */) {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const int* snd = g.senders;
  const int* rcv = g.receivers;
  const index_t edges = g.edges;
  // z read and written, the two gathered rows of pq read, the edge's two indices.
  profile::add_work("surro::meshgraphnet::edge_first_layer",
                    4.0 * double(edges) * H * sizeof(Real) + 8.0 * double(edges));
  // One edge per vector (row_policy.hpp): no index division per element.
  Kokkos::parallel_for(
      "surro::meshgraphnet::edge_first_layer", row_policy(exec, edges),
      KOKKOS_LAMBDA(const member_type& team) {
        const index_t e = row_index(team);
        if (e >= edges) return;
        const Real *ps = pq + index_t(snd[e]) * 2 * H, *pr = pq + index_t(rcv[e]) * 2 * H + H;
        Real* ze = z + e * H;
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, H), [&](const int o) {
          const Real v = ze[o] + ps[o] + pr[o] + bias[o];
          ze[o] = relu ? (v > Real(0) ? v : Real(0)) : v;
        });
      });
}

// s (V, 2H) = [sum of d over the edges out of each node, over the edges into it], each sum in
// ascending edge order (the GraphEdges groupings); no atomics. One node per vector, its lanes over
// the 2H sums, so neighbouring lanes read neighbouring channels of an edge's row.
template <class Exec, class Real>
void edge_sums(const Exec& exec, const GraphEdges& g, int H, const Real* d /* (E, H) */,
               Real* s /* (V, 2H) */) {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  const index_t *oo = g.out_offsets, *io = g.in_offsets;
  const int *oe = g.out_edges, *ie = g.in_edges;
  const index_t nodes = g.nodes;
  // Every edge's row of d read twice (once by its sender's sums, once by its receiver's), s written,
  // the two groupings read.
  profile::add_work("surro::meshgraphnet::edge_sums",
                    (2.0 * double(g.edges) * H + 2.0 * double(nodes) * H) * sizeof(Real) +
                        8.0 * double(g.edges) + 16.0 * double(nodes));
  Kokkos::parallel_for(
      "surro::meshgraphnet::edge_sums", row_policy(exec, nodes), KOKKOS_LAMBDA(const member_type& team) {
        const index_t v = row_index(team);
        if (v >= nodes) return;
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 2 * H), [&](const int k) {
          const bool out = k < H;
          const int o = out ? k : k - H;
          const index_t* off = out ? oo : io;
          const int* list = out ? oe : ie;
          Real acc = 0;
          for (index_t j = off[v]; j < off[v + 1]; ++j) acc += d[index_t(list[j]) * H + o];
          s[v * 2 * H + k] = acc;
        });
      });
}

}  // namespace meshgraphnet_impl

template <class Exec, class Real>
MeshGraphNet<Exec, Real>::MeshGraphNet(const Exec& exec, const MeshGraphNetCfg& cfg, const ParamTable& table,
                                       const GraphBatchCapacity& cap, bool training)
    : m_cfg(cfg), m_cap(cap) {
  meshgraphnet_validate(cfg);
  m_state = std::make_unique<State>(exec, cfg, table, cap, training);
}

template <class Exec, class Real>
MeshGraphNet<Exec, Real>::~MeshGraphNet() = default;

template <class Exec, class Real>
void MeshGraphNet<Exec, Real>::set_edge_normalizer(const Real* mean, const Real* scale, int channels) {
  SURRO_REQUIRE(channels == m_cfg.edge_inputs(),
                "meshgraphnet: an edge normalizer of "
                    << channels << " channels, expected dims + 1 = " << m_cfg.edge_inputs() << " (dx, |dx|)");
  SURRO_REQUIRE((mean == nullptr) == (scale == nullptr),
                "meshgraphnet: edge normalizer without mean or scale");
  m_edge_mean = mean;
  m_edge_scale = scale;
}

template <class Exec, class Real>
bool MeshGraphNet<Exec, Real>::training() const {
  return m_state->training;
}

template <class Exec, class Real>
std::size_t MeshGraphNet<Exec, Real>::planned_scalars() const {
  const State& s = *m_state;
  std::size_t n =
      s.enc_node->planned_scalars() + s.enc_edge->planned_scalars() + s.decoder->planned_scalars();
  for (const auto& b : s.owned) n += b.size();
  for (const auto& b : s.blocks) n += b.edge->planned_scalars() + b.node->planned_scalars();
  return n;
}

template <class Exec, class Real>
void MeshGraphNet<Exec, Real>::forward(const Exec& exec, const Real* P, const GraphBatch<Exec>& batch,
                                       const Real* xin, Real* y) {
  using namespace meshgraphnet_impl;
  State& s = *m_state;
  const MeshGraphNetCfg& c = m_cfg;
  const int H = c.hidden;
  const index_t V = batch.nodes(), E = batch.edges();
  SURRO_REQUIRE(V <= m_cap.nodes && E <= m_cap.edges,
                "meshgraphnet: batch of " << V << " nodes, " << E << " edges exceeds the plan ("
                                          << m_cap.nodes << ", " << m_cap.edges << ")");
  SURRO_REQUIRE(batch.dim() == c.dims,
                "meshgraphnet: batch of dim " << batch.dim() << ", model dims " << c.dims);
  const GraphEdges g = batch.graph();

  graph_ops::concat_one_hot(exec, V, c.in_channels, xin, batch.node_type(), s.enc_in);
  s.enc_node->forward(exec, P, V, s.enc_in, s.enc_node_norm.z);
  norm_forward(exec, H, V, P, s.enc_node_norm, s.x[0]);
  edge_features(exec, E, c.dims, batch.positions(), g.senders, g.receivers, m_edge_mean, m_edge_scale, s.ef);
  s.enc_edge->forward(exec, P, E, s.ef, s.enc_edge_norm.z);
  norm_forward(exec, H, E, P, s.enc_edge_norm, s.e[0]);
  for (int l = 0; l < c.blocks; ++l) block_forward(exec, P, g, l);
  s.decoder->forward(exec, P, V, s.x[c.blocks], y);
}

template <class Exec, class Real>
void MeshGraphNet<Exec, Real>::block_forward(const Exec& exec, const Real* P, const GraphEdges& g, int l) {
  using namespace meshgraphnet_impl;
  State& s = *m_state;
  const int H = m_cfg.hidden;
  const index_t V = g.nodes, E = g.edges;
  typename State::Block& b = s.blocks[l];
  const Real *xl = s.x[l], *el = s.e[l];
  // m = LN(MLP_edge([h_l(s), h_l(r), e_l])), the first layer from node-level products (no (E, 3H) input)
  const Real* W = P + b.edge->weight_offset(0);
  s.gemm(exec, gemm::make_shape(N, T, V, H, H, H, 3 * H, 2 * H), Real(1), xl, W, Real(0), s.pq);
  s.gemm(exec, gemm::make_shape(N, T, V, H, H, H, 3 * H, 2 * H), Real(1), xl, W + H, Real(0), s.pq + H);
  Real* z0 = b.edge->first_output(b.edge_norm.z);
  s.gemm(exec, gemm::make_shape(N, T, E, H, H, H, 3 * H, H), Real(1), el, W + 2 * H, Real(0), z0);
  edge_first_layer(exec, g, H, static_cast<const Real*>(s.pq), P + b.edge->bias_offset(0),
                   b.edge->layers() > 1, z0);
  b.edge->forward_rest(exec, P, E, b.edge_norm.z);
  norm_forward(exec, H, E, P, b.edge_norm, s.m);
  // h_{l+1} = h_l + LN(MLP_node([h_l, a])), a = the messages summed at their receivers
  graph_scatter_sum_forward(exec, g, H, static_cast<const Real*>(s.m), b.agg);
  graph_ops::concat(exec, V, H, xl, H, static_cast<const Real*>(b.agg), s.nin);
  b.node->forward(exec, P, V, s.nin, b.node_norm.z);
  norm_forward(exec, H, V, P, b.node_norm, s.tV);
  graph_ops::add(exec, V * H, xl, static_cast<const Real*>(s.tV), s.x[l + 1]);
  graph_ops::add(exec, E * H, el, static_cast<const Real*>(s.m), s.e[l + 1]);
}

template <class Exec, class Real>
void MeshGraphNet<Exec, Real>::backward(const Exec& exec, const Real* P, const GraphBatch<Exec>& batch,
                                        const Real* dy, Real* G, Real* dx) {
  using namespace meshgraphnet_impl;
  State& s = *m_state;
  SURRO_REQUIRE(s.training, "meshgraphnet: backward on an instance planned for inference");
  const MeshGraphNetCfg& c = m_cfg;
  const int H = c.hidden;
  const index_t V = batch.nodes(), E = batch.edges();
  const GraphEdges g = batch.graph();

  s.decoder->backward(exec, P, V, s.x[c.blocks], dy, G, s.gx);  // gx = dL/dh_L
  fill_zero(exec, E * H, s.ge);                                 // e_L feeds nothing
  for (int l = c.blocks - 1; l >= 0; --l) block_backward(exec, P, g, l, G);
  norm_backward(exec, H, E, P, s.enc_edge_norm, static_cast<const Real*>(s.ge), G, s.tE2, s.colsum);
  s.enc_edge->backward(exec, P, E, s.ef, s.tE2, G, static_cast<Real*>(nullptr));
  norm_backward(exec, H, V, P, s.enc_node_norm, static_cast<const Real*>(s.gx), G, s.tV, s.colsum);
  s.enc_node->backward(exec, P, V, s.enc_in, s.tV, G, dx ? s.denc_in : nullptr);
  if (dx)
    graph_ops::split(exec, V, c.in_channels, 9, static_cast<const Real*>(s.denc_in), dx, false,
                     static_cast<Real*>(nullptr));
}

// On entry gx = dL/dh_{l+1}, ge = dL/de_{l+1}; on return dL/dh_l, dL/de_l.
template <class Exec, class Real>
void MeshGraphNet<Exec, Real>::block_backward(const Exec& exec, const Real* P, const GraphEdges& g, int l,
                                              Real* G) {
  using namespace meshgraphnet_impl;
  State& s = *m_state;
  const int H = m_cfg.hidden;
  const index_t V = g.nodes, E = g.edges;
  typename State::Block& b = s.blocks[l];
  const Real *xl = s.x[l], *el = s.e[l];
  // h_{l+1} = h_l + LN(MLP_node([h_l, a]))
  norm_backward(exec, H, V, P, b.node_norm, static_cast<const Real*>(s.gx), G, s.tV, s.colsum);
  graph_ops::concat(exec, V, H, xl, H, static_cast<const Real*>(b.agg), s.nin);
  b.node->backward(exec, P, V, s.nin, s.tV, G, s.dnin);
  graph_ops::split(exec, V, H, H, static_cast<const Real*>(s.dnin), s.gx, true, s.dagg);
  // a = scatter_sum(m); e_{l+1} = e_l + m: dm = scatter' (da) + de_{l+1}
  graph_scatter_sum_backward(exec, g, H, static_cast<const Real*>(s.dagg), s.tE,
                             static_cast<const Real*>(s.ge));
  // m = LN(MLP_edge(...)); dz_0 (E, H) at the first layer's output
  norm_backward(exec, H, E, P, b.edge_norm, static_cast<const Real*>(s.tE), G, s.tE2, s.colsum);
  const Real* d = b.edge->backward_rest(exec, P, E, s.tE2, G);
  // z_0 = e_l W_e^T + (h_l W_s^T)(s) + (h_l W_r^T)(r) + b: with S_s, S_r = the sums of dz_0 over the
  // edges out of / into each node, dW_e += dz_0^T e_l, dW_s += S_s^T h_l, dW_r += S_r^T h_l,
  // db += sum_v S_s (every edge has one sender), de_l += dz_0 W_e, dh_l += S_s W_s + S_r W_r.
  const Real* W = P + b.edge->weight_offset(0);
  Real* dW = G + b.edge->weight_offset(0);
  const Real* S = s.pq;
  s.gemm(exec, gemm::make_shape(T, N, H, H, E, H, H, 3 * H), Real(1), d, el, Real(1), dW + 2 * H);
  s.gemm(exec, gemm::make_shape(N, N, E, H, H, H, 3 * H, H), Real(1), d, W + 2 * H, Real(1), s.ge);
  edge_sums(exec, g, H, d, s.pq);
  s.gemm(exec, gemm::make_shape(T, N, H, H, V, 2 * H, H, 3 * H), Real(1), S, xl, Real(1), dW);
  s.gemm(exec, gemm::make_shape(T, N, H, H, V, 2 * H, H, 3 * H), Real(1), S + H, xl, Real(1), dW + H);
  column_sums(exec, "surro::meshgraphnet::edge_bias_grad", V, H, ColumnOf<Real>{S, 2 * H}, s.colsum,
              G + b.edge->bias_offset(0));
  s.gemm(exec, gemm::make_shape(N, N, V, H, H, 2 * H, 3 * H, H), Real(1), S, W, Real(1), s.gx);
  s.gemm(exec, gemm::make_shape(N, N, V, H, H, 2 * H, 3 * H, H), Real(1), S + H, W + H, Real(1), s.gx);
}

#define SURRO_X(Exec, Real)                                                                                  \
  template void meshgraphnet_init<Exec, Real>(const Exec&, const MeshGraphNetCfg&, const ParamTable&, Real*, \
                                              std::uint64_t);                                                \
  template class MeshGraphNet<Exec, Real>;
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
