// The model types `surro train` knows, by the config's "type" (operators/model.hpp).
#include "core/config.hpp"
#include "operators/model.hpp"
#include "operators/models/fno.hpp"
#include "operators/models/ifactformer.hpp"

namespace surro::op {

namespace {

config::Registry<std::shared_ptr<Architecture>> make_registry() {
  config::Registry<std::shared_ptr<Architecture>> r("model");
  // Channel counts come from the data; 1/1 until set_channels.
  r.add("fno", [](config::Node& m) -> std::shared_ptr<Architecture> {
    return std::make_shared<FnoArchitecture>(read_fno_section(m, 1, 1));
  });
  r.add("ifactformer", [](config::Node& m) -> std::shared_ptr<Architecture> {
    return std::make_shared<IFactFormerArchitecture>(read_ifactformer_section(m, 1, 1));
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

std::vector<std::string> architecture_types() {
  return registry().types();
}

}  // namespace surro::op
