#pragma once
// The graph models as Architectures (operators/model.hpp), types "mesh_transformer" and
// "meshgraphnet": they bind to mesh data (x (V, Cin) channel-last, a GraphBatch per batch) and are
// planned for a GraphBatchCapacity, so one training and one inference instance serve every batch.
//
// Config sections (defaults are the papers'):
//   mesh_transformer  {"dim": 128, "heads": 4, "layers": 15, "gated_mult": 3,
//                      "mask": "adjacency" | "k_hop" | "dilated", "k": 2 (k_hop only),
//                      "dilation": 2, "radius": 8 (dilated only), "global_nodes": 0,
//                      "head_layout": "interleaved" | "blocked", "matmul_precision": "fp32"}
//   meshgraphnet      {"hidden": 128, "blocks": 15, "hidden_layers": 2, "matmul_precision": "fp32"}
#include "core/config.hpp"
#include "operators/model.hpp"
#include "operators/models/mesh_transformer.hpp"
#include "operators/models/meshgraphnet.hpp"

#include <type_traits>
#include <utility>

namespace surro::op {

MeshTransformerCfg read_mesh_transformer_section(config::Node& node);
// The mask keys of a mesh_transformer section ("mask", "k", "dilation", "radius", "global_nodes");
// Error(usage) naming the key for a value out of range or a key the chosen mask does not read.
MaskSpec read_mask_section(config::Node& node);
MeshGraphNetCfg read_meshgraphnet_section(config::Node& node);

class MeshTransformerArchitecture final : public Architecture {
 public:
  // mask: the attention mask of its graph batches (attention_masks.hpp).
  MeshTransformerArchitecture(MeshTransformerCfg cfg, const MaskSpec& mask)
      : m_cfg(std::move(cfg)), m_mask(mask) {}
  std::string type() const override { return "mesh_transformer"; }
  void bind(const DataShape& shape) override;
  MaskSpec graph_mask() const override { return m_mask; }
  void register_params(ParamTable& table) const override { mesh_transformer_register(table, m_cfg); }
  std::string summary(const ParamTable& table) const override;
  void init(const ExecSpace& exec, const ParamTable& table, float* params, std::uint64_t seed) const override;
  std::unique_ptr<Model<ExecSpace, float>> make(const ExecSpace& exec, const ParamTable& table,
                                                const PlanShape& plan, bool training) const override;
  const MeshTransformerCfg& cfg() const { return m_cfg; }

 private:
  MeshTransformerCfg m_cfg;
  MaskSpec m_mask;
};

class MeshGraphNetArchitecture final : public Architecture {
 public:
  explicit MeshGraphNetArchitecture(MeshGraphNetCfg cfg) : m_cfg(std::move(cfg)) {}
  std::string type() const override { return "meshgraphnet"; }
  void bind(const DataShape& shape) override;
  void register_params(ParamTable& table) const override { meshgraphnet_register(table, m_cfg); }
  std::string summary(const ParamTable& table) const override;
  void init(const ExecSpace& exec, const ParamTable& table, float* params, std::uint64_t seed) const override;
  std::unique_ptr<Model<ExecSpace, float>> make(const ExecSpace& exec, const ParamTable& table,
                                                const PlanShape& plan, bool training) const override;
  int edge_features() const override { return m_cfg.edge_inputs(); }
  const MeshGraphNetCfg& cfg() const { return m_cfg; }

 private:
  MeshGraphNetCfg m_cfg;
};

// Whether Net takes an edge normalizer (MeshGraphNet does, the transformer derives no edge features).
template <class Net, class = void>
struct has_edge_normalizer : std::false_type {};
template <class Net>
struct has_edge_normalizer<Net, std::void_t<decltype(std::declval<Net&>().set_edge_normalizer(nullptr, nullptr, 0))>>
    : std::true_type {};

// A graph model (MeshTransformer or MeshGraphNet on Exec) behind the Model interface: it reads
// the batch's GraphBatch. Templated on the concrete model so tests can wrap double instances.
template <class Exec, class Real, class Net>
class GraphModel final : public Model<Exec, Real> {
 public:
  // training false plans a forward-only instance (no saved activations; backward throws).
  template <class Cfg>
  GraphModel(const Exec& exec, const Cfg& cfg, const ParamTable& table, const GraphBatchCapacity& capacity,
             bool training = true)
      : m_net(exec, cfg, table, capacity, training) {}
  void forward(const Exec& exec, const Batch<Exec>& batch, const Real* params, const Real* x,
               Real* y) override {
    m_net.forward(exec, params, graph_of(batch), x, y);
  }
  void backward(const Exec& exec, const Batch<Exec>& batch, const Real* params, const Real* dy, Real* grads,
                Real* dx) override {
    m_net.backward(exec, params, graph_of(batch), dy, grads, dx);
  }
  void set_edge_normalizer(const Real* mean, const Real* scale, int channels) override {
    if constexpr (has_edge_normalizer<Net>::value)
      m_net.set_edge_normalizer(mean, scale, channels);
    else
      Model<Exec, Real>::set_edge_normalizer(mean, scale, channels);
  }
  Net& net() { return m_net; }

 private:
  static const GraphBatch<Exec>& graph_of(const Batch<Exec>& batch) {
    SURRO_REQUIRE(batch.graph, "graph model: the batch has no graph (grid data given to a mesh model)");
    return *batch.graph;
  }
  Net m_net;
};

}  // namespace surro::op
