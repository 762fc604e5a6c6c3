#include "app/trained_model.hpp"

#include "core/error.hpp"

namespace surro::app {

namespace {

data::NormKind norm_kind(const std::string& name) {
  return name == "channel" ? data::NormKind::channel : data::NormKind::pointwise;
}

}  // namespace

NormalizerMap fit_normalizers(const TrainingSections& sec, const data::TrajectoryStore& train) {
  NormalizerMap out;
  const bool pair = sec.data.kind == "pair";
  const int frames = static_cast<int>(sec.normalize.frames);
  if (sec.normalize.inputs != "none")
    out["inputs"] =
        pair ? data::fit_normalizer(train, sec.data.pair.inputs, norm_kind(sec.normalize.inputs),
                                    sec.data.pair.input_frame, 1)
             : data::fit_normalizer(train, sec.data.fields, norm_kind(sec.normalize.inputs), 0, frames);
  if (sec.normalize.targets != "none") {
    const data::NormKind kind = norm_kind(sec.normalize.targets);
    if (pair)
      out["targets"] =
          data::fit_normalizer(train, sec.data.pair.targets, kind, sec.data.pair.target_frame, 1);
    else if (sec.data.delta)  // the change between consecutive frames: what the model predicts
      out["targets"] = data::fit_delta_normalizer(train, sec.data.fields, kind, 0,
                                                  frames > 0 ? frames : train.frames() - 1);
    else
      out["targets"] = data::fit_normalizer(train, sec.data.fields, kind, 0, frames);
  }
  if (sec.normalize.edges != "none") {
    if (!train.on_mesh())
      SURRO_THROW(ErrorKind::usage, "normalize.edges: \"" << sec.normalize.edges
                                                           << "\" standardizes a graph model's edge features, but the "
                                                           << "data are on a grid; expected none");
    out["edges"] = data::fit_edge_normalizer(train);
  }
  return out;
}

void require_edge_features(const TrainingSections& sec, const op::Architecture& arch) {
  if (sec.normalize.edges != "none" && arch.edge_features() == 0)
    SURRO_THROW(ErrorKind::usage, "normalize.edges: \"" << sec.normalize.edges << "\" but " << arch.type()
                                                         << " derives no edge features (meshgraphnet does); "
                                                         << "expected none");
}

NormalizerMap load_checkpoint_normalizers(const std::string& checkpoint) {
  return data::load_checkpoint_normalizers(checkpoint);
}

void check_normalizers(const TrainingSections& sec, const NormalizerMap& norms, const std::string& where) {
  for (const auto& [name, want] : {std::pair<std::string, std::string>{"inputs", sec.normalize.inputs},
                                   std::pair<std::string, std::string>{"targets", sec.normalize.targets},
                                   std::pair<std::string, std::string>{"edges", sec.normalize.edges}}) {
    const auto it = norms.find(name);
    if (want == "none") {
      if (it != norms.end())
        SURRO_THROW(ErrorKind::input, where << ": /normalizers/" << name << " is present but the config's "
                                            << "normalize." << name << " is none");
      continue;
    }
    if (it == norms.end())
      SURRO_THROW(ErrorKind::input, where << ": /normalizers/" << name
                                          << " is missing; the config's normalize." << name << " is "
                                          << want);
    if (data::to_string(it->second.kind()) != want)
      SURRO_THROW(ErrorKind::input, where << ": /normalizers/" << name << " is "
                                          << data::to_string(it->second.kind()) << ", expected " << want
                                          << " (the config's normalize." << name << ")");
  }
}

std::shared_ptr<const op::ModelNormalizers> make_model_normalizers(const NormalizerMap& norms, bool delta) {
  auto out = std::make_shared<op::ModelNormalizers>();
  out->delta = delta;
  if (auto it = norms.find("inputs"); it != norms.end())
    out->x = data::make_normalizer_view<float>(it->second);
  if (auto it = norms.find("targets"); it != norms.end())
    out->y = data::make_normalizer_view<float>(it->second);
  if (auto it = norms.find("edges"); it != norms.end())
    out->edges = data::make_normalizer_view<float>(it->second);
  if (out->empty()) return nullptr;
  return out;
}

TrainedModel::TrainedModel(const std::string& checkpoint, const TrainingSections& sec,
                           const op::DataShape& shape)
    : m_arch(sec.model), m_table(std::make_unique<op::ParamTable>()) {
  m_arch->bind(shape);
  require_edge_features(sec, *m_arch);
  m_arch->register_params(*m_table);
  m_params = op::FlatParams<float>(*m_table, "surro::trained_model::params");
  NormalizerMap norms;
  const op::FlatParams<float>* none = nullptr;
  m_info = data::load_checkpoint(checkpoint, m_arch->type(), m_params, none, none, &norms);
  check_normalizers(sec, norms, checkpoint);
  for (const auto& [name, n] : norms)
    if (n.points() != shape.points())
      SURRO_THROW(ErrorKind::input, checkpoint << ": /normalizers/" << name << " has " << n.points()
                                               << " points per row; the data have " << shape.points());
  m_norms = make_model_normalizers(norms, sec.data.delta);
}

std::unique_ptr<op::Model<ExecSpace, float>> TrainedModel::make(const ExecSpace& exec,
                                                                const op::PlanShape& plan) const {
  return op::planned_factory(*m_arch, *m_table, plan, m_norms)(exec, false);
}

}  // namespace surro::app
