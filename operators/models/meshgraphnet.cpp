#include "operators/models/meshgraphnet.hpp"

#include "core/error.hpp"
#include "operators/layers/graph_gather.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/layer_norm.hpp"
#include "operators/models/graph_mlp.hpp"

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

// ef (E, dim + 1) = [pos[s] - pos[r], |pos[s] - pos[r]|] for each directed edge (s -> r).
template <class Exec, class Real>
void edge_features(const Exec& exec, index_t edges, int dim, const double* pos, const int* senders,
                   const int* receivers, Real* ef) {
  Kokkos::parallel_for(
      "surro::meshgraphnet::edge_features", Kokkos::RangePolicy<Exec>(exec, 0, edges),
      KOKKOS_LAMBDA(const index_t e) {
        const index_t s = senders[e], r = receivers[e];
        double n2 = 0;
        for (int k = 0; k < dim; ++k) {
          const double d = pos[s * dim + k] - pos[r * dim + k];
          ef[e * (dim + 1) + k] = Real(d);
          n2 += d * d;
        }
        ef[e * (dim + 1) + dim] = Real(::sqrt(n2));
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
  // A LayerNorm after an MLP: parameter offsets and the saved pre-norm input and statistics.
  struct Norm {
    std::size_t gamma, beta;
    Buf z, mean, rstd;  // (R, H), (R), (R)
  };
  struct Block {
    std::unique_ptr<Mlp> edge, node;
    Norm edge_norm, node_norm;
    Buf gin, m, nin;  // (E, 3H), (E, H), (V, 2H)
  };
  gemm::Gemm<Exec> gemm;
  std::unique_ptr<Mlp> enc_node, enc_edge, decoder;
  Norm enc_node_norm, enc_edge_norm;
  std::vector<Block> blocks;
  Buf enc_in, ef;              // (V, Cin + 9), (E, dim + 1)
  std::vector<Buf> x, e;       // L + 1 streams (V, H), (E, H)
  Buf tV, agg, gx, dagg, dxp;  // (V, H)
  Buf ge, tE, tE2;             // (E, H)
  Buf dnin, dgin, denc_in;     // (V, 2H), (E, 3H), (V, Cin + 9)

  Norm norm(const ParamTable& table, const std::string& prefix, index_t rows, int H) const {
    return {table.slot(prefix + ".weight").offset, table.slot(prefix + ".bias").offset,
            Buf("surro::meshgraphnet::norm_in", std::size_t(rows) * H),
            Buf("surro::meshgraphnet::mean", rows), Buf("surro::meshgraphnet::rstd", rows)};
  }

  State(const Exec& exec, const MeshGraphNetCfg& c, const ParamTable& table, const GraphBatchCapacity& cap)
      : gemm(exec, c.gemm) {
    using namespace meshgraphnet_impl;
    const int H = c.hidden;
    const index_t V = cap.nodes, E = cap.edges;
    const std::size_t Vs = std::size_t(V), Es = std::size_t(E);
    auto buf = [](const std::string& label, std::size_t n) {
      return Buf("surro::meshgraphnet::" + label, n);
    };
    enc_node = std::make_unique<Mlp>(gemm, table, name("encoder.node"), widths(c, c.node_inputs(), H), V);
    enc_edge = std::make_unique<Mlp>(gemm, table, name("encoder.edge"), widths(c, c.edge_inputs(), H), E);
    decoder = std::make_unique<Mlp>(gemm, table, name("decoder"), widths(c, H, c.out_channels), V);
    enc_node_norm = norm(table, name("encoder.node.norm"), V, H);
    enc_edge_norm = norm(table, name("encoder.edge.norm"), E, H);
    for (int l = 0; l < c.blocks; ++l) {
      Block b;
      b.edge = std::make_unique<Mlp>(gemm, table, block(l, "edge"), widths(c, 3 * H, H), E);
      b.node = std::make_unique<Mlp>(gemm, table, block(l, "node"), widths(c, 2 * H, H), V);
      b.edge_norm = norm(table, block(l, "edge.norm"), E, H);
      b.node_norm = norm(table, block(l, "node.norm"), V, H);
      b.gin = buf("gin", Es * 3 * H);
      b.m = buf("m", Es * H);
      b.nin = buf("nin", Vs * 2 * H);
      blocks.push_back(std::move(b));
    }
    enc_in = buf("enc_in", Vs * c.node_inputs());
    ef = buf("ef", Es * c.edge_inputs());
    for (int l = 0; l <= c.blocks; ++l) {
      x.push_back(buf("x", Vs * H));
      e.push_back(buf("e", Es * H));
    }
    tV = buf("tV", Vs * H);
    agg = buf("agg", Vs * H);
    gx = buf("gx", Vs * H);
    dagg = buf("dagg", Vs * H);
    dxp = buf("dxp", Vs * H);
    ge = buf("ge", Es * H);
    tE = buf("tE", Es * H);
    tE2 = buf("tE2", Es * H);
    dnin = buf("dnin", Vs * 2 * H);
    dgin = buf("dgin", Es * 3 * H);
    denc_in = buf("denc_in", Vs * c.node_inputs());
  }
};

namespace meshgraphnet_impl {

// y = LN(n.z) after the MLP wrote n.z; saves mean and rstd.
template <class Exec, class Real, class Norm>
void norm_forward(const Exec& exec, int H, index_t rows, const Real* P, const Norm& n, Real* y) {
  layer_norm_forward(exec, LayerNormCfg{H}, rows, P + n.gamma, P + n.beta,
                     static_cast<const Real*>(n.z.data()), y, n.mean.data(), n.rstd.data());
}
// dz = LN backward of dy (dz must not alias dy).
template <class Exec, class Real, class Norm>
void norm_backward(const Exec& exec, int H, index_t rows, const Real* P, const Norm& n, const Real* dy,
                   Real* G, Real* dz) {
  layer_norm_backward(exec, LayerNormCfg{H}, rows, P + n.gamma, static_cast<const Real*>(n.z.data()),
                      static_cast<const Real*>(n.mean.data()), static_cast<const Real*>(n.rstd.data()), dy,
                      G + n.gamma, G + n.beta, dz);
}

}  // namespace meshgraphnet_impl

template <class Exec, class Real>
MeshGraphNet<Exec, Real>::MeshGraphNet(const Exec& exec, const MeshGraphNetCfg& cfg, const ParamTable& table,
                                       const GraphBatchCapacity& cap)
    : m_cfg(cfg), m_cap(cap) {
  meshgraphnet_validate(cfg);
  m_state = std::make_unique<State>(exec, cfg, table, cap);
}

template <class Exec, class Real>
MeshGraphNet<Exec, Real>::~MeshGraphNet() = default;

template <class Exec, class Real>
std::size_t MeshGraphNet<Exec, Real>::planned_scalars() const {
  const State& s = *m_state;
  std::size_t n =
      s.enc_node->planned_scalars() + s.enc_edge->planned_scalars() + s.decoder->planned_scalars();
  auto norm = [](const typename State::Norm& q) { return q.z.size() + q.mean.size() + q.rstd.size(); };
  n += norm(s.enc_node_norm) + norm(s.enc_edge_norm);
  for (const auto* b : {&s.enc_in, &s.ef, &s.tV, &s.agg, &s.gx, &s.dagg, &s.dxp, &s.ge, &s.tE, &s.tE2,
                        &s.dnin, &s.dgin, &s.denc_in})
    n += b->size();
  for (const auto& v : s.x) n += v.size();
  for (const auto& v : s.e) n += v.size();
  for (const auto& b : s.blocks)
    n += b.edge->planned_scalars() + b.node->planned_scalars() + norm(b.edge_norm) + norm(b.node_norm) +
         b.gin.size() + b.m.size() + b.nin.size();
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

  graph_ops::concat_one_hot(exec, V, c.in_channels, xin, batch.node_type(), s.enc_in.data());
  s.enc_node->forward(exec, P, V, s.enc_in.data(), s.enc_node_norm.z.data());
  norm_forward(exec, H, V, P, s.enc_node_norm, s.x[0].data());
  edge_features(exec, E, c.dims, batch.positions(), g.senders, g.receivers, s.ef.data());
  s.enc_edge->forward(exec, P, E, s.ef.data(), s.enc_edge_norm.z.data());
  norm_forward(exec, H, E, P, s.enc_edge_norm, s.e[0].data());
  for (int l = 0; l < c.blocks; ++l) {
    typename State::Block& b = s.blocks[l];
    const Real *xl = s.x[l].data(), *el = s.e[l].data();
    graph_gather_forward(exec, g, H, H, xl, el, b.gin.data());
    b.edge->forward(exec, P, E, b.gin.data(), b.edge_norm.z.data());
    norm_forward(exec, H, E, P, b.edge_norm, b.m.data());
    graph_scatter_sum_forward(exec, g, H, static_cast<const Real*>(b.m.data()), s.agg.data());
    graph_ops::concat(exec, V, H, xl, H, static_cast<const Real*>(s.agg.data()), b.nin.data());
    b.node->forward(exec, P, V, b.nin.data(), b.node_norm.z.data());
    norm_forward(exec, H, V, P, b.node_norm, s.tV.data());
    graph_ops::add(exec, V * H, xl, static_cast<const Real*>(s.tV.data()), s.x[l + 1].data());
    graph_ops::add(exec, E * H, el, static_cast<const Real*>(b.m.data()), s.e[l + 1].data());
  }
  s.decoder->forward(exec, P, V, s.x[c.blocks].data(), y);
}

template <class Exec, class Real>
void MeshGraphNet<Exec, Real>::backward(const Exec& exec, const Real* P, const GraphBatch<Exec>& batch,
                                        const Real* dy, Real* G, Real* dx) {
  using namespace meshgraphnet_impl;
  State& s = *m_state;
  const MeshGraphNetCfg& c = m_cfg;
  const int H = c.hidden;
  const index_t V = batch.nodes(), E = batch.edges();
  const GraphEdges g = batch.graph();
  Real *gx = s.gx.data(), *ge = s.ge.data(), *tV = s.tV.data(), *tE = s.tE.data(), *tE2 = s.tE2.data();

  s.decoder->backward(exec, P, V, s.x[c.blocks].data(), dy, G, gx);  // gx = dL/dx_L
  fill_zero(exec, E * H, ge);                                        // e_L feeds nothing
  for (int l = c.blocks - 1; l >= 0; --l) {
    typename State::Block& b = s.blocks[l];
    // x_{l+1} = x_l + LN(MLP_node([x_l, a]))
    norm_backward(exec, H, V, P, b.node_norm, static_cast<const Real*>(gx), G, tV);
    b.node->backward(exec, P, V, b.nin.data(), tV, G, s.dnin.data());
    graph_ops::split(exec, V, H, H, static_cast<const Real*>(s.dnin.data()), gx, true, s.dagg.data());
    // a = scatter_sum(m); e_{l+1} = e_l + m: dm = scatter' (da) + de_{l+1}
    graph_scatter_sum_backward(exec, g, H, static_cast<const Real*>(s.dagg.data()), tE);
    graph_ops::add_into(exec, E * H, static_cast<const Real*>(ge), tE);
    // m = LN(MLP_edge(gather(x_l, e_l)))
    norm_backward(exec, H, E, P, b.edge_norm, static_cast<const Real*>(tE), G, tE2);
    b.edge->backward(exec, P, E, b.gin.data(), tE2, G, s.dgin.data());
    graph_gather_backward(exec, g, H, H, static_cast<const Real*>(s.dgin.data()), s.dxp.data(), tE);
    graph_ops::add_into(exec, V * H, static_cast<const Real*>(s.dxp.data()), gx);
    graph_ops::add_into(exec, E * H, static_cast<const Real*>(tE), ge);
  }
  norm_backward(exec, H, E, P, s.enc_edge_norm, static_cast<const Real*>(ge), G, tE2);
  s.enc_edge->backward(exec, P, E, s.ef.data(), tE2, G, static_cast<Real*>(nullptr));
  norm_backward(exec, H, V, P, s.enc_node_norm, static_cast<const Real*>(gx), G, tV);
  s.enc_node->backward(exec, P, V, s.enc_in.data(), tV, G, dx ? s.denc_in.data() : nullptr);
  if (dx)
    graph_ops::split(exec, V, c.in_channels, 9, static_cast<const Real*>(s.denc_in.data()), dx, false,
                     static_cast<Real*>(nullptr));
}

#define SURRO_X(Exec, Real)                                                                                  \
  template void meshgraphnet_init<Exec, Real>(const Exec&, const MeshGraphNetCfg&, const ParamTable&, Real*, \
                                              std::uint64_t);                                                \
  template class MeshGraphNet<Exec, Real>;
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
