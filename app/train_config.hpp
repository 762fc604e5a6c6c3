#pragma once
// Config sections of `surro train` (and what `surro check` validates for training configs):
//   "data":      the dataset and how samples are cut (windows of frames, or input/target pairs), and
//                what the model predicts: the next frame ("target": "state") or its change from the
//                window's last frame ("delta", MeshGraphNets)
//   "model":     {"type": "fno" | "ifactformer" | "mesh_transformer" | "meshgraphnet", ...}
//                (operators/model.hpp read_architecture); grid models on grid datasets, mesh models
//                on mesh datasets
//   "normalize": {"inputs": "none" | "channel" | "pointwise", "targets": ..., "frames": 0,
//                 "edges": "none" | "channel"}
//                default: none, none; frames = how many first frames of each trajectory the
//                statistics are fitted on (0 = all)
//   "optimizer": {"type": "adam" | "adamw", ...}   default: Adam, lr 1e-3
//   "schedule":  {"type": "constant" | "step" | "cosine" | "one_cycle", ...}   default: constant
//   "train":     epochs, batch, mode, shuffle, input_noise, loss, skip_nonfinite
#include "core/config.hpp"
#include "datasets/loader.hpp"
#include "operators/model.hpp"
#include "operators/optim/adam.hpp"
#include "operators/optim/schedule.hpp"

#include <string>
#include <vector>

namespace surro::app {

struct DataSection {
  std::string dataset;  // folder made by surro generate
  std::string train_split, valid_split;
  std::string kind;                 // window | pair
  std::vector<std::string> fields;  // fields loaded, in channel order
  data::WindowSpec window;          // kind = window: t_in frames in, t_out out (1 for teacher_forcing)
  data::PairSpec pair;              // kind = pair: inputs -> targets
  bool delta = false;               // "target": "delta": predict the change from the last frame
};

struct TrainSection {
  long long epochs = 10, batch = 20;
  // teacher_forcing: one step, y = the next frame. unrolled / pushforward: t_out steps with the
  // predictions fed back (operators/train/unroll.hpp); validation is the unrolled loss.
  std::string mode = "teacher_forcing";
  bool shuffle = true;
  double input_noise = 0.0;  // stddev of Gaussian noise added to training inputs (data units)
  // rel_l2 | mse | normalized_mse (MSE of the normalized target, MeshGraphNets; needs
  // normalize.targets). Default rel_l2.
  std::string loss = "rel_l2";
  // The most non-finite steps (loss or gradient norm) to skip instead of stopping: a skipped step
  // updates nothing, is counted and logged; one more stops the run. 0 (the default): stop at once.
  long long skip_nonfinite = 0;
};

// Gaussian normalizers fitted on the training split (datasets/normalizer.hpp) and stored in the
// checkpoint; the loss stays in physical units (operators/train/normalized_model.hpp).
struct NormalizeSection {
  std::string inputs = "none", targets = "none";  // none | channel | pointwise
  std::string edges = "none";                      // none | channel: the model's edge features (meshgraphnet)
  long long frames = 0;                           // fit on the first `frames` frames (0 = all)
};

struct TrainingSections {
  DataSection data;
  TrainSection train;
  std::shared_ptr<op::Architecture> model;  // bound to the data by the command that loads it
  NormalizeSection normalize;
  op::AdamConfig adam;
  op::ScheduleConfig schedule;
};

DataSection read_data_section(config::Node& node);
TrainSection read_train_section(config::Node& node);
NormalizeSection read_normalize_section(config::Node& node);
TrainingSections read_training_sections(config::Node& root);

// The shape a model of these sections sees on `store`: Cin = x channels, Cout = one frame's
// channels, the grid or the mesh dims.
op::DataShape data_shape(const TrainingSections& sec, const data::TrajectoryStore& store, int x_channels,
                         int frame_channels);

}  // namespace surro::app
