#pragma once
// Config sections of `surro train` (and what `surro check` validates for training configs):
//   "data":      the dataset and how samples are cut (windows of frames, or input/target pairs)
//   "model":     {"type": "fno", ...} (operators/models/fno.hpp read_fno_section)
//   "optimizer": {"type": "adam" | "adamw", ...}   default: Adam, lr 1e-3
//   "schedule":  {"type": "constant" | "step" | "cosine" | "one_cycle", ...}   default: constant
//   "train":     epochs, batch, mode, shuffle
#include "core/config.hpp"
#include "datasets/loader.hpp"
#include "operators/models/fno.hpp"
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
};

struct TrainingSections {
  DataSection data;
  TrainSection train;
  op::FnoCfg model;  // channel counts filled from the data
  op::AdamConfig adam;
  op::ScheduleConfig schedule;
};

DataSection read_data_section(config::Node& node);
TrainSection read_train_section(config::Node& node);
op::FnoCfg read_model_section(config::Node& node);
TrainingSections read_training_sections(config::Node& root);

}  // namespace surro::app
