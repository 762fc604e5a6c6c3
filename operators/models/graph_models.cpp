#include "operators/models/graph_models.hpp"

#include "core/error.hpp"

#include <sstream>

namespace surro::op {

namespace {

void require_mesh(const DataShape& shape, const char* type) {
  if (!shape.on_mesh())
    SURRO_THROW(ErrorKind::usage, "model.type: " << type
                                                 << " works on meshes, but the data are on a grid (use "
                                                 << "fno or ifactformer)");
}

}  // namespace

MeshTransformerCfg read_mesh_transformer_section(config::Node& node) {
  MeshTransformerCfg c;
  c.dim = static_cast<int>(node.get_int("dim", c.dim, config::positive()));
  c.heads = static_cast<int>(node.get_int("heads", c.heads, config::positive()));
  c.layers = static_cast<int>(node.get_int("layers", c.layers, config::positive()));
  c.gated_mult = static_cast<int>(node.get_int("gated_mult", c.gated_mult, config::positive()));
  c.layout = node.get_string("head_layout", "interleaved", config::one_of({"interleaved", "blocked"})) ==
                     "interleaved"
                 ? HeadLayout::interleaved
                 : HeadLayout::blocked;
  c.rope = node.get_bool("rope", false);
  for (const char* key : {"rope_length", "rope_max_freq"})
    if (!c.rope && node.has(key)) node.fail(key, "only read with \"rope\": true");
  if (c.rope) {  // read (and so written into the resolved config) only with rope on
    c.rope_length = node.get_number("rope_length", c.rope_length, config::positive_number());
    c.rope_max_freq = node.get_number("rope_max_freq", c.rope_max_freq, config::in_range(1.0, 1e9));
  }
  if (c.dim % c.heads != 0)
    node.fail("heads",
              "expected a divisor of dim = " + std::to_string(c.dim) + ", got " + std::to_string(c.heads));
  c.gemm = read_gemm_options(node);
  return c;
}

MaskSpec read_mask_section(config::Node& node) {
  const std::string kind =
      node.get_string("mask", "adjacency", config::one_of({"adjacency", "k_hop", "dilated"}));
  // A key of another mask kind is a mistake (the user meant that kind), not a silent default.
  for (const auto& [key, owner] :
       {std::pair<const char*, const char*>{"k", "k_hop"}, {"dilation", "dilated"}, {"radius", "dilated"}})
    if (kind != owner && node.has(key))
      node.fail(key, std::string("only read with \"mask\": \"") + owner + "\", got mask " + kind);
  MaskSpec s;
  if (kind == "k_hop") {
    s = MaskSpec::hops(static_cast<int>(node.get_int("k", 2, config::positive())));
    if (s.k < 2)
      node.fail("k", "expected >= 2 with mask k_hop (k = 1 is mask adjacency), got " + std::to_string(s.k));
  } else if (kind == "dilated") {
    s = MaskSpec::dilated(static_cast<int>(node.get_int("dilation", 2, config::positive())),
                          static_cast<int>(node.get_int("radius", 8, config::positive())));
    if (s.dilation < 2)
      node.fail("dilation",
                "expected >= 2 with mask dilated (dilation 1 is mask k_hop with k = radius), got " +
                    std::to_string(s.dilation));
    if (s.radius < s.dilation)
      node.fail("radius", "expected >= dilation = " + std::to_string(s.dilation) +
                              " (a smaller radius keeps only hop 1: mask adjacency), got " +
                              std::to_string(s.radius));
  }
  s.global_nodes = static_cast<int>(node.get_int("global_nodes", 0, config::non_negative()));
  return s;
}

MeshGraphNetCfg read_meshgraphnet_section(config::Node& node) {
  MeshGraphNetCfg c;
  c.hidden = static_cast<int>(node.get_int("hidden", c.hidden, config::positive()));
  c.blocks = static_cast<int>(node.get_int("blocks", c.blocks, config::positive()));
  c.hidden_layers = static_cast<int>(node.get_int("hidden_layers", c.hidden_layers, config::positive()));
  c.gemm = read_gemm_options(node);
  node.finish();
  return c;
}

void MeshTransformerArchitecture::bind(const DataShape& shape) {
  require_mesh(shape, "mesh_transformer");
  MeshTransformerCfg cfg = m_cfg;
  cfg.in_channels = shape.in_channels;
  cfg.out_channels = shape.out_channels;
  cfg.dims = shape.mesh_dims;
  mesh_transformer_validate(cfg);
  record_shape(shape);
  m_cfg = cfg;
}

std::string MeshTransformerArchitecture::summary(const ParamTable& table) const {
  std::ostringstream os;
  os << "mesh_transformer, dim " << m_cfg.dim << ", " << m_cfg.heads << " heads, " << m_cfg.layers
     << " layers, mask " << m_mask.describe();
  if (m_cfg.rope) os << ", rope (length " << m_cfg.rope_length << ", max_freq " << m_cfg.rope_max_freq << ")";
  os << ", " << table.parameter_count() << " parameters, "
     << gemm_options_name(m_cfg.gemm) << " GEMMs";
  return os.str();
}

void MeshTransformerArchitecture::init(const ExecSpace& exec, const ParamTable& table, float* params,
                                       std::uint64_t seed) const {
  require_bound("init");
  mesh_transformer_init<ExecSpace, float>(exec, m_cfg, table, params, seed);
}

std::unique_ptr<Model<ExecSpace, float>> MeshTransformerArchitecture::make(const ExecSpace& exec,
                                                                           const ParamTable& table,
                                                                           const PlanShape& plan,
                                                                           bool training) const {
  require_bound("make");
  // An inference instance shares its block buffers (MeshTransformer's training flag).
  return std::make_unique<GraphModel<ExecSpace, float, MeshTransformer<ExecSpace, float>>>(exec, m_cfg, table,
                                                                                           plan.graph, training);
}

void MeshGraphNetArchitecture::bind(const DataShape& shape) {
  require_mesh(shape, "meshgraphnet");
  MeshGraphNetCfg cfg = m_cfg;
  cfg.in_channels = shape.in_channels;
  cfg.out_channels = shape.out_channels;
  cfg.dims = shape.mesh_dims;
  meshgraphnet_validate(cfg);
  record_shape(shape);
  m_cfg = cfg;
}

std::string MeshGraphNetArchitecture::summary(const ParamTable& table) const {
  std::ostringstream os;
  os << "meshgraphnet, hidden " << m_cfg.hidden << ", " << m_cfg.blocks << " message-passing blocks, "
     << m_cfg.hidden_layers << " hidden layers per MLP, " << table.parameter_count() << " parameters, "
     << gemm_options_name(m_cfg.gemm) << " GEMMs";
  return os.str();
}

void MeshGraphNetArchitecture::init(const ExecSpace& exec, const ParamTable& table, float* params,
                                    std::uint64_t seed) const {
  require_bound("init");
  meshgraphnet_init<ExecSpace, float>(exec, m_cfg, table, params, seed);
}

std::unique_ptr<Model<ExecSpace, float>> MeshGraphNetArchitecture::make(const ExecSpace& exec,
                                                                        const ParamTable& table,
                                                                        const PlanShape& plan,
                                                                        bool training) const {
  require_bound("make");
  // An inference instance keeps no activations per block (MeshGraphNet's training flag).
  return std::make_unique<GraphModel<ExecSpace, float, MeshGraphNet<ExecSpace, float>>>(exec, m_cfg, table,
                                                                                        plan.graph, training);
}

}  // namespace surro::op
