#pragma once
// surro rollout / eval on mesh datasets (app/mesh_rollout.cpp); app/rollout.cpp reads the
// checkpoint, loads the trajectories, checks the user's indices and hands over here.
#include "app/commands.hpp"
#include "app/trained_model.hpp"
#include "datasets/loader.hpp"

#include <map>
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

// rollout.hdf5's provenance attributes, the same for grids and meshes: its trajectory k is trajectory
// k of `split` of `dataset` (its files in name order) started at frame --start, or the solver's
// sample k of --seed with --initial solver; `checkpoint` names the model.
void record_rollout_provenance(const RolloutArgs& a, const std::string& dataset, int K,
                               std::map<std::string, std::string>& provenance);

}  // namespace surro::app
