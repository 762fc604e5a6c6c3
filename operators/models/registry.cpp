// The model types `surro train` knows, by the config's "type" (operators/model.hpp).
#include "core/config.hpp"
#include "operators/model.hpp"
#include "operators/models/fno.hpp"

namespace surro::op {

namespace {

config::Registry<std::shared_ptr<Architecture>> make_registry() {
  config::Registry<std::shared_ptr<Architecture>> r("model");
  // Channel counts come from the data; 1/1 until set_channels.
  r.add("fno", [](config::Node& m) -> std::shared_ptr<Architecture> {
    return std::make_shared<FnoArchitecture>(read_fno_section(m, 1, 1));
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

std::vector<std::string> architecture_types() {
  return registry().types();
}

}  // namespace surro::op
