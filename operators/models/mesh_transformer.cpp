#include "operators/models/mesh_transformer.hpp"

#include "core/error.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/gated_mlp.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/linear.hpp"
#include "operators/layers/rms_norm.hpp"
#include "operators/models/graph_mlp.hpp"

#include <algorithm>
#include <vector>

namespace surro::op {

namespace mesh_transformer_impl {

std::string name(const std::string& part) {
  return "mesh_transformer." + part;
}
std::string block(int l, const std::string& part) {
  return name("block" + std::to_string(l) + "." + part);
}
std::vector<int> encoder_widths(const MeshTransformerCfg& c) {
  return {c.encoder_inputs(), c.dim, c.dim, c.dim, c.dim};
}
std::vector<int> decoder_widths(const MeshTransformerCfg& c) {
  return {c.dim, c.dim, c.dim, c.dim, c.out_channels};
}
const char* const kQkvp[4] = {"q", "k", "v", "proj"};

}  // namespace mesh_transformer_impl

void mesh_transformer_validate(const MeshTransformerCfg& c) {
  auto fail = [](const std::string& m) { SURRO_THROW(ErrorKind::usage, "mesh_transformer: " << m); };
  if (c.in_channels <= 0 || c.out_channels <= 0)
    fail("in_channels " + std::to_string(c.in_channels) + ", out_channels " + std::to_string(c.out_channels) +
         ": expected positive");
  if (c.dim <= 0 || c.layers <= 0 || c.gated_mult <= 0)
    fail("model.dim, model.layers and gated_mult must be positive");
  if (c.heads <= 0 || c.dim % c.heads != 0)
    fail("model.heads = " + std::to_string(c.heads) +
         ": expected a divisor of dim = " + std::to_string(c.dim));
  if (c.rope) mesh_rope_validate(c.rope_cfg());
}

void mesh_transformer_register(ParamTable& t, const MeshTransformerCfg& c) {
  using namespace mesh_transformer_impl;
  mesh_transformer_validate(c);
  const int d = c.dim;
  relu_mlp_register(t, name("encoder"), encoder_widths(c));
  rms_norm_register(t, name("encoder.norm"), {d});
  for (int l = 0; l < c.layers; ++l) {
    rms_norm_register(t, block(l, "attn_norm"), {d});
    for (const char* s : kQkvp) linear_register(t, block(l, std::string("attn.") + s), {d, d, true});
    rms_norm_register(t, block(l, "mlp_norm"), {d});
    gated_mlp_register(t, block(l, "mlp"), GatedMlpCfg{d, c.gated_mult});
  }
  relu_mlp_register(t, name("decoder"), decoder_widths(c));
}

template <class Exec, class Real>
void mesh_transformer_init(const Exec& exec, const MeshTransformerCfg&, const ParamTable& table, Real* params,
                           std::uint64_t seed) {
  graph_model_init(exec, table, "mesh_transformer.", params, seed);
}

template <class Exec, class Real>
struct MeshTransformer<Exec, Real>::State {
  using Mem = typename Exec::memory_space;
  using Buf = View1<Real, Mem>;
  struct Block {
    std::size_t n1, w[4], b[4], n2;  // parameter offsets: norms' scales, q k v proj
    std::size_t g_scale, g_w_in, g_b_in, g_w_out, g_b_out;
    Buf n1_out, rms1, q, k, v, p, o, n2_out, rms2, g_rms, g_normed, g_hidden, g_gated;
  };
  bool training;
  gemm::Gemm<Exec> gemm;
  // Backward only: the scratch of every parameter sum (norms, linear and MLP biases; they run one
  // after another), column_sum_scratch(V, widest summed width).
  Buf colsum;
  ReluMlp<Exec, Real> encoder, decoder;
  std::size_t enc_norm;
  std::vector<Block> blocks;     // inference: every block's buffers are the same Views
  Buf enc_in, enc_out, enc_rms;  // (V, Cin + 9), (V, d), (V)
  std::vector<Buf> h;            // 2L + 1 streams (V, d); inference: h[i] is one of two buffers, by parity
  Buf t;                         // (V, d) a block's branch output
  Buf rope;                      // (V, dims, m, 2) rotation table of the batch's positions (rope only)
  // The attention's tiled long rows' partials (masked_attention_long_scratch for the capacity),
  // shared by the blocks, forward and backward.
  Buf long_scratch;
  Buf g, t1, t2, dq, dk, dv, ds, dgated, dhidden, dnormed, denc_in;  // backward only (empty in inference)

  State(const Exec& exec, const MeshTransformerCfg& c, const ParamTable& table, const GraphBatchCapacity& cap,
        bool train)
      : training(train),
        gemm(exec, c.gemm),
        colsum("surro::mesh_transformer::colsum",
               train ? column_sum_scratch(cap.nodes, std::max({c.dim, 2 * c.gated_mult * c.dim, c.out_channels}))
                     : 0),
        encoder(gemm, table, mesh_transformer_impl::name("encoder"), mesh_transformer_impl::encoder_widths(c),
                cap.nodes, train, nullptr, colsum.data()),
        decoder(gemm, table, mesh_transformer_impl::name("decoder"), mesh_transformer_impl::decoder_widths(c),
                cap.nodes, train, nullptr, colsum.data()) {
    using namespace mesh_transformer_impl;
    const std::size_t V = std::size_t(cap.nodes), d = std::size_t(c.dim), F = std::size_t(c.gated_mult) * d;
    const std::size_t nnzH = std::size_t(cap.nnz) * c.heads;
    // Backward's buffers are empty in an inference instance.
    auto buf = [](const std::string& label, std::size_t n) {
      return Buf("surro::mesh_transformer::" + label, n);
    };
    auto bwd = [&](const std::string& label, std::size_t n) { return buf(label, training ? n : 0); };
    enc_norm = table.slot(name("encoder.norm.scale")).offset;
    enc_in = buf("enc_in", V * c.encoder_inputs());
    enc_out = buf("enc_out", V * d);
    enc_rms = buf("enc_rms", V);
    // Forward reads h[i] and writes h[i + 1] only, so inference alternates two streams.
    for (int i = 0; i <= 2 * c.layers; ++i) h.push_back(training || i < 2 ? buf("h", V * d) : h[i % 2]);
    for (int l = 0; l < c.layers; ++l) {
      Block b = l == 0 || training ? Block{} : blocks[0];  // inference: block 0's buffers
      b.n1 = table.slot(block(l, "attn_norm.scale")).offset;
      for (int s = 0; s < 4; ++s) {
        b.w[s] = table.slot(block(l, std::string("attn.") + kQkvp[s] + ".weight")).offset;
        b.b[s] = table.slot(block(l, std::string("attn.") + kQkvp[s] + ".bias")).offset;
      }
      b.n2 = table.slot(block(l, "mlp_norm.scale")).offset;
      b.g_scale = table.slot(block(l, "mlp.norm.scale")).offset;
      b.g_w_in = table.slot(block(l, "mlp.in.weight")).offset;
      b.g_b_in = table.slot(block(l, "mlp.in.bias")).offset;
      b.g_w_out = table.slot(block(l, "mlp.out.weight")).offset;
      b.g_b_out = table.slot(block(l, "mlp.out.bias")).offset;
      if (l > 0 && !training) {
        blocks.push_back(b);
        continue;
      }
      b.n1_out = buf("n1", V * d);
      b.rms1 = buf("rms1", V);
      b.q = buf("q", V * d);
      b.k = buf("k", V * d);
      b.v = buf("v", V * d);
      b.p = buf("p", nnzH);
      b.o = buf("o", V * d);
      b.n2_out = buf("n2", V * d);
      b.rms2 = buf("rms2", V);
      b.g_rms = buf("gated_rms", V);
      b.g_normed = buf("gated_normed", V * d);
      b.g_hidden = buf("gated_hidden", V * 2 * F);
      b.g_gated = buf("gated_gated", V * F);
      blocks.push_back(b);
    }
    t = buf("t", V * d);
    if (c.rope) rope = buf("rope", V * std::size_t(c.dims) * c.rope_cfg().pairs() * 2);
    long_scratch = buf("long_scratch", masked_attention_long_scratch(
                                           MaskedAttentionCfg{c.dim, c.heads, c.layout}, cap.nodes, cap.nnz));
    g = bwd("g", V * d);
    t1 = bwd("t1", V * d);
    t2 = bwd("t2", V * d);
    dq = bwd("dq", V * d);
    dk = bwd("dk", V * d);
    dv = bwd("dv", V * d);
    ds = bwd("ds", nnzH);
    dgated = bwd("dgated", V * F);
    dhidden = bwd("dhidden", V * 2 * F);
    dnormed = bwd("dnormed", V * d);
    denc_in = bwd("denc_in", V * c.encoder_inputs());
  }

  template <class P>
  GatedMlpParams<P> gated(const Block& b, P* base) const {
    return {base + b.g_scale, base + b.g_w_in, base + b.g_b_in, base + b.g_w_out, base + b.g_b_out};
  }
};

template <class Exec, class Real>
MeshTransformer<Exec, Real>::MeshTransformer(const Exec& exec, const MeshTransformerCfg& cfg,
                                             const ParamTable& table, const GraphBatchCapacity& cap,
                                             bool training)
    : m_cfg(cfg), m_cap(cap) {
  mesh_transformer_validate(cfg);
  m_state = std::make_unique<State>(exec, cfg, table, cap, training);
}

template <class Exec, class Real>
bool MeshTransformer<Exec, Real>::training() const {
  return m_state->training;
}

template <class Exec, class Real>
MeshTransformer<Exec, Real>::~MeshTransformer() = default;

template <class Exec, class Real>
std::size_t MeshTransformer<Exec, Real>::planned_scalars() const {
  const State& s = *m_state;
  std::size_t n = s.encoder.planned_scalars() + s.decoder.planned_scalars();
  for (const auto* b : {&s.enc_in, &s.enc_out, &s.enc_rms, &s.t, &s.rope, &s.long_scratch, &s.g, &s.t1, &s.t2,
                        &s.dq, &s.dk, &s.dv, &s.ds, &s.dgated, &s.dhidden, &s.dnormed, &s.denc_in})
    n += b->size();
  // Inference aliases streams and block buffers: count each allocation once.
  const std::size_t streams = s.training ? s.h.size() : 2, blocks = s.training ? s.blocks.size() : 1;
  for (std::size_t i = 0; i < streams; ++i) n += s.h[i].size();
  for (std::size_t l = 0; l < blocks; ++l) {
    const auto& b = s.blocks[l];
    for (const auto* v : {&b.n1_out, &b.rms1, &b.q, &b.k, &b.v, &b.p, &b.o, &b.n2_out, &b.rms2, &b.g_rms,
                          &b.g_normed, &b.g_hidden, &b.g_gated})
      n += v->size();
  }
  return n;
}

template <class Exec, class Real>
void MeshTransformer<Exec, Real>::forward(const Exec& exec, const Real* P, const GraphBatch<Exec>& batch,
                                          const Real* x, Real* y) {
  State& s = *m_state;
  const MeshTransformerCfg& c = m_cfg;
  const index_t V = batch.nodes();
  SURRO_REQUIRE(V <= m_cap.nodes && batch.nnz() <= m_cap.nnz, "mesh_transformer: batch of "
                                                                  << V << " nodes, " << batch.nnz()
                                                                  << " mask entries exceeds the plan ("
                                                                  << m_cap.nodes << ", " << m_cap.nnz << ")");
  const index_t n = V * c.dim;
  const RmsNormCfg norm{c.dim};
  const LinearWorkspace<Exec> lin(s.gemm, LinearCfg{c.dim, c.dim, true}, LinearShape{1, V, 1, 1});
  const GatedMlpWorkspace<Exec> gws(s.gemm, GatedMlpCfg{c.dim, c.gated_mult}, V);
  const MaskedAttentionCfg acfg{c.dim, c.heads, c.layout};
  const AttentionMask mask = batch.mask();
  SURRO_REQUIRE(masked_attention_long_scratch(acfg, mask) <= s.long_scratch.size(),
                "mesh_transformer: the batch's long mask rows need "
                    << masked_attention_long_scratch(acfg, mask) << " scalars of scratch, planned "
                    << s.long_scratch.size());

  const MeshRopeCfg rcfg = c.rope_cfg();
  if (c.rope) {
    SURRO_REQUIRE(batch.dim() == c.dims,
                  "mesh_transformer: batch of dim " << batch.dim() << ", model bound to dims " << c.dims);
    mesh_rope_table(exec, rcfg, V, batch.positions(), s.rope.data());
  }
  graph_ops::concat_one_hot(exec, V, c.in_channels, x, batch.node_type(), s.enc_in.data());
  s.encoder.forward(exec, P, V, s.enc_in.data(), s.enc_out.data());
  rms_norm_forward(exec, norm, V, P + s.enc_norm, static_cast<const Real*>(s.enc_out.data()), s.h[0].data(),
                   s.enc_rms.data());
  for (int l = 0; l < c.layers; ++l) {
    typename State::Block& b = s.blocks[l];
    const Real* h_in = s.h[2 * l].data();
    rms_norm_forward(exec, norm, V, P + b.n1, h_in, b.n1_out.data(), b.rms1.data());
    Real* qkv[3] = {b.q.data(), b.k.data(), b.v.data()};
    for (int i = 0; i < 3; ++i)
      linear_forward(exec, lin, P + b.w[i], P + b.b[i], static_cast<const Real*>(b.n1_out.data()), qkv[i]);
    if (c.rope)  // q and k are saved rotated: attention's backward reads what its forward read
      for (int i = 0; i < 2; ++i) mesh_rope_apply(exec, rcfg, V, static_cast<const Real*>(s.rope.data()), qkv[i], false);
    masked_attention_forward(exec, acfg, mask, static_cast<const Real*>(b.q.data()),
                             static_cast<const Real*>(b.k.data()), static_cast<const Real*>(b.v.data()),
                             b.p.data(), b.o.data(), s.long_scratch.data());
    linear_forward(exec, lin, P + b.w[3], P + b.b[3], static_cast<const Real*>(b.o.data()), s.t.data());
    graph_ops::add(exec, n, h_in, static_cast<const Real*>(s.t.data()), s.h[2 * l + 1].data());
    const Real* h_mid = s.h[2 * l + 1].data();
    rms_norm_forward(exec, norm, V, P + b.n2, h_mid, b.n2_out.data(), b.rms2.data());
    gated_mlp_forward(
        exec, gws, s.gated(b, P), static_cast<const Real*>(b.n2_out.data()),
        GatedMlpSaved<Real>{b.g_rms.data(), b.g_normed.data(), b.g_hidden.data(), b.g_gated.data()},
        s.t.data());
    graph_ops::add(exec, n, h_mid, static_cast<const Real*>(s.t.data()), s.h[2 * l + 2].data());
  }
  s.decoder.forward(exec, P, V, s.h[2 * c.layers].data(), y);
}

template <class Exec, class Real>
void MeshTransformer<Exec, Real>::backward(const Exec& exec, const Real* P, const GraphBatch<Exec>& batch,
                                           const Real* dy, Real* G, Real* dx) {
  State& s = *m_state;
  SURRO_REQUIRE(s.training, "mesh_transformer: backward on an instance planned for inference");
  const MeshTransformerCfg& c = m_cfg;
  const index_t V = batch.nodes();
  const index_t n = V * c.dim;
  const RmsNormCfg norm{c.dim};
  const LinearWorkspace<Exec> lin(s.gemm, LinearCfg{c.dim, c.dim, true}, LinearShape{1, V, 1, 1});
  const GatedMlpWorkspace<Exec> gws(s.gemm, GatedMlpCfg{c.dim, c.gated_mult}, V);
  const MaskedAttentionCfg acfg{c.dim, c.heads, c.layout};
  const AttentionMask mask = batch.mask();
  Real *g = s.g.data(), *t1 = s.t1.data(), *t2 = s.t2.data(), *cs = s.colsum.data();

  s.decoder.backward(exec, P, V, s.h[2 * c.layers].data(), dy, G, g);  // g = dL/dh_2L
  for (int l = c.layers - 1; l >= 0; --l) {
    typename State::Block& b = s.blocks[l];
    // h_{2l+2} = h_{2l+1} + GatedMLP(RMSNorm(h_{2l+1}))
    gated_mlp_backward(
        exec, gws, s.gated(b, P), static_cast<const Real*>(b.n2_out.data()),
        GatedMlpSaved<Real>{b.g_rms.data(), b.g_normed.data(), b.g_hidden.data(), b.g_gated.data()},
        static_cast<const Real*>(g),
        GatedMlpScratch<Real>{s.dgated.data(), s.dhidden.data(), s.dnormed.data(), cs}, s.gated(b, G), t1);
    rms_norm_backward(exec, norm, V, P + b.n2, static_cast<const Real*>(s.h[2 * l + 1].data()),
                      static_cast<const Real*>(b.rms2.data()), static_cast<const Real*>(t1), G + b.n2, t2,
                      cs);
    graph_ops::add_into(exec, n, static_cast<const Real*>(t2), g);
    // h_{2l+1} = h_{2l} + Proj(MHA(q, k, v)), q k v = Linear(RMSNorm(h_{2l}))
    linear_backward(exec, lin, P + b.w[3], static_cast<const Real*>(b.o.data()), static_cast<const Real*>(g),
                    G + b.w[3], G + b.b[3], t1, cs);
    masked_attention_backward(exec, acfg, mask, static_cast<const Real*>(b.q.data()),
                              static_cast<const Real*>(b.k.data()), static_cast<const Real*>(b.v.data()),
                              static_cast<const Real*>(b.p.data()), static_cast<const Real*>(t1), s.ds.data(),
                              s.dq.data(), s.dk.data(), s.dv.data(), s.long_scratch.data());
    if (c.rope)  // back through the rotation: its transpose, the inverse rotation
      for (Real* d : {s.dq.data(), s.dk.data()})
        mesh_rope_apply(exec, c.rope_cfg(), V, static_cast<const Real*>(s.rope.data()), d, true);
    const Real* dqkv[3] = {s.dq.data(), s.dk.data(), s.dv.data()};
    for (int i = 0; i < 3; ++i) {
      linear_backward(exec, lin, P + b.w[i], static_cast<const Real*>(b.n1_out.data()), dqkv[i], G + b.w[i],
                      G + b.b[i], i == 0 ? t1 : t2, cs);
      if (i > 0) graph_ops::add_into(exec, n, static_cast<const Real*>(t2), t1);
    }
    rms_norm_backward(exec, norm, V, P + b.n1, static_cast<const Real*>(s.h[2 * l].data()),
                      static_cast<const Real*>(b.rms1.data()), static_cast<const Real*>(t1), G + b.n1, t2,
                      cs);
    graph_ops::add_into(exec, n, static_cast<const Real*>(t2), g);
  }
  rms_norm_backward(exec, norm, V, P + s.enc_norm, static_cast<const Real*>(s.enc_out.data()),
                    static_cast<const Real*>(s.enc_rms.data()), static_cast<const Real*>(g), G + s.enc_norm,
                    t1, cs);
  s.encoder.backward(exec, P, V, s.enc_in.data(), t1, G, dx ? s.denc_in.data() : nullptr);
  if (dx)
    graph_ops::split(exec, V, c.in_channels, 9, static_cast<const Real*>(s.denc_in.data()), dx, false,
                     static_cast<Real*>(nullptr));
}

#define SURRO_X(Exec, Real)                                                                                  \
  template void mesh_transformer_init<Exec, Real>(const Exec&, const MeshTransformerCfg&, const ParamTable&, \
                                                  Real*, std::uint64_t);                                     \
  template class MeshTransformer<Exec, Real>;
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
