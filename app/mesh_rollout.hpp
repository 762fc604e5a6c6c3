#pragma once
// surro rollout / eval on mesh datasets (app/mesh_rollout.cpp); app/rollout.cpp reads the
// checkpoint, loads the trajectories, checks the user's indices and hands over here.
#include "app/commands.hpp"
#include "app/trained_model.hpp"
#include "datasets/loader.hpp"

#include <string>

namespace surro::app {

struct RolloutInputs {
  const RolloutArgs& args;
  const data::TrajectoryStore& store;  // a mesh store
  const TrainedModel& model;
  std::string dataset;  // for messages
  int samples = 0;      // K: trajectories 0 .. K - 1
  int steps = 0;        // checked against the store's frames
  int t_in = 1;
};

int run_mesh_rollout(const RolloutInputs& inputs);

// A prediction that is NaN or infinite ends the rollout (exit 1) at the step where it appears,
// instead of metrics of null. `pred` is (K, frame) on the host, step counted from 1 as printed.
void check_finite_prediction(const std::string& checkpoint, int step, int K, long long frame,
                             const float* pred);

}  // namespace surro::app
