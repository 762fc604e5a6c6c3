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
  if (sec.normalize.inputs != "none")
    out["inputs"] = pair
                        ? data::fit_normalizer(train, sec.data.pair.inputs, norm_kind(sec.normalize.inputs),
                                               sec.data.pair.input_frame, 1)
                        : data::fit_normalizer(train, sec.data.fields, norm_kind(sec.normalize.inputs), 0, 0);
  if (sec.normalize.targets != "none")
    out["targets"] =
        pair ? data::fit_normalizer(train, sec.data.pair.targets, norm_kind(sec.normalize.targets),
                                    sec.data.pair.target_frame, 1)
             : data::fit_normalizer(train, sec.data.fields, norm_kind(sec.normalize.targets), 0, 0);
  return out;
}

NormalizerMap load_checkpoint_normalizers(const std::string& checkpoint) {
  return data::load_checkpoint_normalizers(checkpoint);
}

void check_normalizers(const TrainingSections& sec, const NormalizerMap& norms, const std::string& where) {
  for (const auto& [name, want] : {std::pair<std::string, std::string>{"inputs", sec.normalize.inputs},
                                   std::pair<std::string, std::string>{"targets", sec.normalize.targets}}) {
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

std::shared_ptr<const op::ModelNormalizers> make_model_normalizers(const NormalizerMap& norms) {
  auto out = std::make_shared<op::ModelNormalizers>();
  if (auto it = norms.find("inputs"); it != norms.end())
    out->x = data::make_normalizer_view<float>(it->second);
  if (auto it = norms.find("targets"); it != norms.end())
    out->y = data::make_normalizer_view<float>(it->second);
  if (out->empty()) return nullptr;
  return out;
}

TrainedModel::TrainedModel(const std::string& checkpoint, const TrainingSections& sec, int in_channels,
                           int out_channels, std::vector<int> grid)
    : m_arch(sec.model), m_grid(std::move(grid)), m_table(std::make_unique<op::ParamTable>()) {
  m_arch->set_channels(in_channels, out_channels);
  m_arch->validate(m_grid);
  for (int e : m_grid) m_points *= e;
  m_arch->register_params(*m_table);
  m_params = op::FlatParams<float>(*m_table, "surro::trained_model::params");
  NormalizerMap norms;
  const op::FlatParams<float>* none = nullptr;
  m_info = data::load_checkpoint(checkpoint, m_arch->type(), m_params, none, none, &norms);
  check_normalizers(sec, norms, checkpoint);
  for (const auto& [name, n] : norms)
    if (n.points() != m_points)
      SURRO_THROW(ErrorKind::input, checkpoint << ": /normalizers/" << name << " has " << n.points()
                                               << " points; the data has " << m_points);
  m_norms = make_model_normalizers(norms);
}

std::unique_ptr<op::Model<ExecSpace, float>> TrainedModel::make(const ExecSpace& exec, int batch) const {
  return op::normalized_factory(op::model_factory(*m_arch, *m_table, batch, m_grid), m_norms, batch,
                                m_arch->in_channels(), m_arch->out_channels(), m_points)(exec, false);
}

}  // namespace surro::app
