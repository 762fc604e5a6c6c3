#pragma once
// Config sections of `surro train` (and what `surro check` validates for training configs):
//   "data":      the dataset and how samples are cut (windows of frames, or input/target pairs)
//   "model":     {"type": "fno" | "ifactformer", ...} (operators/model.hpp read_architecture)
//   "normalize": {"inputs": "none" | "channel" | "pointwise", "targets": ...}   default: none, none
//   "optimizer": {"type": "adam" | "adamw", ...}   default: Adam, lr 1e-3
//   "schedule":  {"type": "constant" | "step" | "cosine" | "one_cycle", ...}   default: constant
//   "train":     epochs, batch, mode, shuffle
#include "core/config.hpp"
#include "datasets/loader.hpp"
#include "operators/model.hpp"
#include "operators/optim/adam.hpp"
#include "operators/optim/schedule.hpp"

#include <string>
#include <vector>

namespace surro::app {

struct DataSection {
  std::string dataset;                  // folder made by surro generate
  std::string train_split, valid_split;
  std::string kind;                     // window | pair
  std::vector<std::string> fields;      // fields loaded, in channel order
  data::WindowSpec window;              // kind = window: t_in frames in, t_out out (1 for teacher_forcing)
  data::PairSpec pair;                  // kind = pair: inputs -> targets
};

struct TrainSection {
  long long epochs = 10, batch = 20;
  // teacher_forcing: one step, y = the next frame. unrolled / pushforward: t_out steps with the
  // predictions fed back (operators/train/unroll.hpp); validation is the unrolled loss.
  std::string mode = "teacher_forcing";
  bool shuffle = true;
  double input_noise = 0.0;  // stddev of Gaussian noise added to training inputs (data units)
};

// Gaussian normalizers fitted on the training split (datasets/normalizer.hpp) and stored in the
// checkpoint; the loss stays in physical units (operators/train/normalized_model.hpp).
struct NormalizeSection {
  std::string inputs = "none", targets = "none";  // none | channel | pointwise
};

struct TrainingSections {
  DataSection data;
  TrainSection train;
  std::shared_ptr<op::Architecture> model;  // channel counts set from the data
  NormalizeSection normalize;
  op::AdamConfig adam;
  op::ScheduleConfig schedule;
};

DataSection read_data_section(config::Node& node);
TrainSection read_train_section(config::Node& node);
NormalizeSection read_normalize_section(config::Node& node);
TrainingSections read_training_sections(config::Node& root);

}  // namespace surro::app
