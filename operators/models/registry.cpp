// The model types `surro train` knows, by the config's "type" (operators/model.hpp).
#include "core/config.hpp"
#include "operators/model.hpp"
#include "operators/models/fno.hpp"
#include "operators/models/graph_models.hpp"
#include "operators/models/ifactformer.hpp"

namespace surro::op {

namespace {

config::Registry<std::shared_ptr<Architecture>> make_registry() {
  config::Registry<std::shared_ptr<Architecture>> r("model");
  // Channel counts come from the data when the architecture is bound (Architecture::bind).
  r.add("fno", [](config::Node& m) -> std::shared_ptr<Architecture> {
    return std::make_shared<FnoArchitecture>(read_fno_section(m, 1, 1));
  });
  r.add("ifactformer", [](config::Node& m) -> std::shared_ptr<Architecture> {
    return std::make_shared<IFactFormerArchitecture>(read_ifactformer_section(m, 1, 1));
  });
  r.add("mesh_transformer", [](config::Node& m) -> std::shared_ptr<Architecture> {
    MeshTransformerCfg cfg = read_mesh_transformer_section(m);
    const MaskSpec mask = read_mask_section(m);
    m.finish();
    return std::make_shared<MeshTransformerArchitecture>(cfg, mask);
  });
  r.add("meshgraphnet", [](config::Node& m) -> std::shared_ptr<Architecture> {
    return std::make_shared<MeshGraphNetArchitecture>(read_meshgraphnet_section(m));
  });
  return r;
}

const config::Registry<std::shared_ptr<Architecture>>& registry() {
  static const auto r = make_registry();
  return r;
}

}  // namespace

std::shared_ptr<Architecture> read_architecture(config::Node& section) {
  return registry().make(section);
}

gemm::Options read_gemm_options(config::Node& section) {
  gemm::Options o;
  o.allow_tf32 = section.get_string("matmul_precision", "fp32", config::one_of({"fp32", "tf32"})) == "tf32";
  return o;
}

std::string gemm_options_name(const gemm::Options& options) {
  return options.allow_tf32 ? "tf32" : "fp32";
}

void Architecture::record_shape(const DataShape& shape) {
  if (m_bound) {
    const bool same = m_shape.in_channels == shape.in_channels &&
                      m_shape.out_channels == shape.out_channels && m_shape.grid == shape.grid &&
                      m_shape.mesh_dims == shape.mesh_dims;
    SURRO_REQUIRE(same, type() << ": already bound to data of " << m_shape.in_channels << " -> "
                               << m_shape.out_channels << " channels; a model binds to one data shape");
  }
  m_shape = shape;
  m_bound = true;
}

void Architecture::require_bound(const char* what) const {
  SURRO_REQUIRE(m_bound, type() << ": " << what << " before bind (the data shape is not known yet)");
}

std::vector<std::string> architecture_types() {
  return registry().types();
}

}  // namespace surro::op
