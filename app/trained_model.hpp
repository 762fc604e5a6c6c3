#pragma once
// What `surro train` and `surro rollout/eval` share about a trained model: its normalizers and the
// model itself as loaded from a self-describing checkpoint.
//
// Normalizers are named "inputs" and "targets" in the checkpoint (datasets/checkpoint.hpp):
//   window data: both are fitted over every frame of every training trajectory, on the data's
//                fields (so they coincide when both kinds agree);
//   pair data:   "inputs" over the input fields at input_frame, "targets" over the target fields at
//                target_frame.
#include "app/train_config.hpp"
#include "datasets/checkpoint.hpp"
#include "datasets/loader.hpp"
#include "datasets/normalizer.hpp"
#include "operators/model.hpp"
#include "operators/train/normalized_model.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace surro::app {

using NormalizerMap = std::map<std::string, data::GaussianNormalizer>;

// Fits the normalizers the "normalize" section asks for on the training split.
NormalizerMap fit_normalizers(const TrainingSections& sec, const data::TrajectoryStore& train);
// Error(usage) naming normalize.edges when it is set for a model that derives no edge features.
// After arch.bind.
void require_edge_features(const TrainingSections& sec, const op::Architecture& arch);
// The checkpoint's normalizers.
NormalizerMap load_checkpoint_normalizers(const std::string& checkpoint);
// Error(input) naming `where` unless `norms` holds exactly what the section asks for, of its kinds.
void check_normalizers(const TrainingSections& sec, const NormalizerMap& norms, const std::string& where);
// Device statistics for the model wrapper (with delta targets when the data section asks for
// them); null when there is nothing to wrap.
std::shared_ptr<const op::ModelNormalizers> make_model_normalizers(const NormalizerMap& norms, bool delta);

// A trained model for inference, loaded from a checkpoint whose stored config gave `sec`.
class TrainedModel {
 public:
  // shape: the data the model will see (data_shape); Error(input) naming the checkpoint when its
  // model type, tensors, shapes or normalizers do not match.
  TrainedModel(const std::string& checkpoint, const TrainingSections& sec, const op::DataShape& shape);
  // An inference model for a plan (normalizers applied), planned now.
  std::unique_ptr<op::Model<ExecSpace, float>> make(const ExecSpace& exec, const op::PlanShape& plan) const;
  // Grids: an inference model for `batch` samples.
  std::unique_ptr<op::Model<ExecSpace, float>> make(const ExecSpace& exec, int batch) const {
    op::PlanShape plan;
    plan.batch = batch;
    return make(exec, plan);
  }
  const op::Architecture& architecture() const { return *m_arch; }
  const float* params() const { return m_params.values().data(); }
  const data::CheckpointInfo& info() const { return m_info; }

 private:
  std::shared_ptr<op::Architecture> m_arch;
  std::unique_ptr<op::ParamTable> m_table;  // the FlatParams point at it: stable address
  op::FlatParams<float> m_params;
  std::shared_ptr<const op::ModelNormalizers> m_norms;
  data::CheckpointInfo m_info;
};

}  // namespace surro::app
